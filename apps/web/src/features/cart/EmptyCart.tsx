import { Link } from 'react-router';
import { EmptyState } from '../../components/Status';

/** The cart and checkout pages when there is nothing in the cart. */
export function EmptyCart({ title }: { title: string }) {
  return (
    <section>
      <h1>{title}</h1>
      <EmptyState>
        <p>
          Your cart is empty. <Link to="/">Browse the catalogue</Link>.
        </p>
      </EmptyState>
    </section>
  );
}
