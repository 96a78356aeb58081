import { keelErrorCode, keelErrorDetail } from '@keel/client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link, useNavigate } from 'react-router';
import { FormError } from '../../components/Status';
import { money } from '../../format';
import { useTRPC } from '../../trpc';
import { usePageTitle } from '../../usePageTitle';
import { useMe } from '../auth/useMe';
import { cartSignature, cartTotal, clearCart, markShortage, useCart } from '../cart/cart';
import { EmptyCart } from '../cart/EmptyCart';

const attemptKey = 'keel.checkout';

/**
 * One idempotency key per checkout attempt: the same cart keeps its key until
 * the order is placed, across double clicks, retries and reloads (sessionStorage),
 * so the server places it at most once. A changed cart is a new attempt.
 */
function checkoutAttempt(signature: string): string {
  try {
    const saved = JSON.parse(sessionStorage.getItem(attemptKey) ?? 'null') as {
      key: string;
      signature: string;
    } | null;
    if (saved?.signature === signature) return saved.key;
  } catch {
    // A damaged entry is replaced below.
  }
  const key = crypto.randomUUID();
  sessionStorage.setItem(attemptKey, JSON.stringify({ key, signature }));
  return key;
}

export function CheckoutPage() {
  usePageTitle('Checkout');
  const { me, pending } = useMe();
  const lines = useCart();
  const signature = cartSignature(lines);
  const idempotencyKey = useMemo(() => checkoutAttempt(signature), [signature]);
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const place = useMutation(
    trpc.orders.place.mutationOptions({
      onSuccess: (order) => {
        sessionStorage.removeItem(attemptKey);
        clearCart();
        void queryClient.invalidateQueries({ queryKey: trpc.orders.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.products.pathKey() });
        // The pay step: the order exists (and holds its stock) until it is
        // paid, cancelled, or expires unpaid.
        queryClient.setQueryData(trpc.orders.byId.queryKey({ id: order.id }), order);
        void navigate(`/orders/${order.id}/pay`);
      },
      onError: (error) => {
        const detail = keelErrorDetail(error);
        if (detail?.reason === 'OUT_OF_STOCK') markShortage(detail.productId, detail.available);
      },
    }),
  );

  if (pending) return <p className="state">Loading…</p>;
  if (!me) {
    return (
      <section>
        <h1>Checkout</h1>
        <p>
          Please <Link to="/login?next=/checkout">log in</Link> or{' '}
          <Link to="/register?next=/checkout">register</Link> to place your order.
        </p>
      </section>
    );
  }
  if (lines.length === 0) {
    return <EmptyCart title="Checkout" />;
  }

  const total = cartTotal(lines);
  const detail = keelErrorDetail(place.error);
  const shortLine =
    detail?.reason === 'OUT_OF_STOCK' ? lines.find((l) => l.productId === detail.productId) : null;
  const networkError = place.isError && keelErrorCode(place.error) === null;

  return (
    <section aria-labelledby="checkout-title">
      <h1 id="checkout-title">Checkout</h1>
      <ul className="summary">
        {lines.map((line) => (
          <li key={line.productId}>
            {line.quantity} × {line.name} — {money(line.priceCents * line.quantity, line.currency)}
          </li>
        ))}
      </ul>
      <p className="total">
        Total: <strong>{money(total.cents, total.currency)}</strong>
      </p>
      {shortLine && detail?.reason === 'OUT_OF_STOCK' ? (
        <p className="form-error" role="alert">
          Not enough stock for {shortLine.name}: only {detail.available} left.{' '}
          <Link to="/cart">Change your cart</Link>.
        </p>
      ) : networkError ? (
        <p className="form-error" role="alert">
          The shop could not be reached. Try again: your order will not be placed twice.
        </p>
      ) : (
        <FormError error={place.error} />
      )}
      <button
        type="button"
        className="primary"
        disabled={place.isPending || Boolean(shortLine)}
        onClick={() =>
          place.mutate({
            idempotencyKey,
            items: lines.map((l) => ({ productId: l.productId, quantity: l.quantity })),
          })
        }
      >
        {place.isPending ? 'Placing order…' : 'Place order'}
      </button>
    </section>
  );
}
