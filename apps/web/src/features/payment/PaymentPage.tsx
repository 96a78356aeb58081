import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import { ErrorState } from '../../components/Status';
import { money } from '../../format';
import { useTRPC } from '../../trpc';
import { usePageTitle } from '../../usePageTitle';
import { PaymentForm } from './PaymentForm';
import { PayWithin } from './PayWithin';

/** `/orders/:id/pay`: where checkout lands, and where an unpaid order's "Pay" leads. */
export function PaymentPage() {
  usePageTitle('Payment');
  const { id = '' } = useParams();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const query = useQuery(trpc.orders.byId.queryOptions({ id }));

  if (query.isPending) return <p className="state">Loading…</p>;
  if (query.isError) return <ErrorState error={query.error} retry={() => void query.refetch()} />;
  const order = query.data;
  const items = order.items.reduce((sum, item) => sum + item.quantity, 0);
  return (
    <section className="narrow" aria-labelledby="payment-title">
      <h1 id="payment-title">Payment</h1>
      <p className="total">
        {items} {items === 1 ? 'item' : 'items'}, total:{' '}
        <strong>{money(order.totalCents, order.currency)}</strong>
      </p>
      {order.status === 'pending' ? (
        <>
          <PayWithin />
          <PaymentForm
            orderId={order.id}
            amount={money(order.totalCents, order.currency)}
            onPaid={(paid) => {
              queryClient.setQueryData(trpc.orders.byId.queryKey({ id }), paid);
              void queryClient.invalidateQueries({ queryKey: trpc.orders.list.pathKey() });
              void navigate(`/orders/${id}`, { state: { paid: true } });
            }}
          />
        </>
      ) : (
        <p role="status">
          {order.status === 'cancelled'
            ? 'This order was cancelled, so it can no longer be paid. Place it again from the catalogue.'
            : `This order is already ${order.status}: there is nothing to pay.`}
        </p>
      )}
      <p>
        <Link to={`/orders/${order.id}`}>View the order</Link>
      </p>
    </section>
  );
}
