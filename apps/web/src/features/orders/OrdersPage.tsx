import { useInfiniteQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { LoadMore } from '../../components/LoadMore';
import { EmptyState, ErrorState } from '../../components/Status';
import { dateTime, money } from '../../format';
import { useTRPC } from '../../trpc';
import { usePageTitle } from '../../usePageTitle';
import { useMe } from '../auth/useMe';

export function OrdersPage() {
  usePageTitle('My orders');
  const { me, pending } = useMe();
  const trpc = useTRPC();
  const query = useInfiniteQuery({
    ...trpc.orders.list.infiniteQueryOptions(
      { limit: 20 },
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
    enabled: me !== null,
  });

  if (pending) return <p className="state">Loading…</p>;
  if (!me) {
    return (
      <section>
        <h1>My orders</h1>
        <p>
          Please <Link to="/login?next=/orders">log in</Link> to see your orders.
        </p>
      </section>
    );
  }
  const orders = query.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="orders-title">
      <h1 id="orders-title">My orders</h1>
      {query.isPending ? (
        <p className="state" aria-busy="true">
          Loading…
        </p>
      ) : query.isError ? (
        <ErrorState error={query.error} retry={() => void query.refetch()} />
      ) : orders.length === 0 ? (
        <EmptyState>
          <p>
            No orders yet. <Link to="/">Browse the catalogue</Link>.
          </p>
        </EmptyState>
      ) : (
        <ul className="order-list">
          {orders.map((order) => (
            <li key={order.id} data-order-id={order.id}>
              <Link to={`/orders/${order.id}`}>Order of {dateTime(order.placedAt)}</Link>{' '}
              <span className={`status status-${order.status}`}>{order.status}</span>{' '}
              <span>{money(order.totalCents, order.currency)}</span>
            </li>
          ))}
        </ul>
      )}
      <LoadMore pages={query} onScroll />
    </section>
  );
}
