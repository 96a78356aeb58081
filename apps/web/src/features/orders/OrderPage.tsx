import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useLocation, useParams } from 'react-router';
import { ErrorState, FormError } from '../../components/Status';
import { dateTime, money } from '../../format';
import { useTRPC } from '../../trpc';
import { usePageTitle } from '../../usePageTitle';
import { PayWithin } from '../payment/PayWithin';

const cancellable = new Set(['pending', 'paid']);

export function OrderPage() {
  usePageTitle('Order');
  const { id = '' } = useParams();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const query = useQuery(trpc.orders.byId.queryOptions({ id }));
  // Set by the payment page when it brings the customer here.
  const justPaid = (useLocation().state as { paid?: boolean } | null)?.paid === true;
  const cancel = useMutation(
    trpc.orders.cancel.mutationOptions({
      onSuccess: (order) => {
        queryClient.setQueryData(trpc.orders.byId.queryKey({ id }), order);
        void queryClient.invalidateQueries({ queryKey: trpc.orders.list.pathKey() });
        // Cancelling puts the items back in stock.
        void queryClient.invalidateQueries({ queryKey: trpc.products.pathKey() });
      },
    }),
  );

  if (query.isPending) return <p className="state">Loading…</p>;
  if (query.isError) return <ErrorState error={query.error} retry={() => void query.refetch()} />;
  const order = query.data;
  return (
    <article aria-labelledby="order-title">
      <p>
        <Link to="/orders">← My orders</Link>
      </p>
      <h1 id="order-title">Order of {dateTime(order.placedAt)}</h1>
      <p>
        Status:{' '}
        <strong className={`status status-${order.status}`} data-testid="order-status">
          {order.status}
        </strong>
      </p>
      {justPaid && order.status === 'paid' ? (
        <p className="notice" role="status">
          Payment received. Thank you for your order!
        </p>
      ) : null}
      {order.status === 'pending' ? (
        <div className="awaiting-payment">
          <PayWithin />
          <Link className="button primary" to={`/orders/${order.id}/pay`}>
            Pay
          </Link>
        </div>
      ) : null}
      <table className="lines">
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Quantity</th>
            <th scope="col">Unit price</th>
          </tr>
        </thead>
        <tbody>
          {order.items.map((item) => (
            <tr key={item.id}>
              <th scope="row">
                <Link to={`/products/${item.productId}`}>{item.productName}</Link>
              </th>
              <td>{item.quantity}</td>
              <td>{money(item.unitPriceCents, order.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="total">
        Total: <strong>{money(order.totalCents, order.currency)}</strong>
      </p>
      <FormError error={cancel.error} />
      {cancellable.has(order.status) ? (
        <button type="button" onClick={() => cancel.mutate({ id })} disabled={cancel.isPending}>
          {cancel.isPending ? 'Cancelling…' : 'Cancel order'}
        </button>
      ) : null}
    </article>
  );
}
