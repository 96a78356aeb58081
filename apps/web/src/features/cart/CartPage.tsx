import { Link } from 'react-router';
import { money } from '../../format';
import { usePageTitle } from '../../usePageTitle';
import { cartTotal, setQuantity, useCart } from './cart';
import { EmptyCart } from './EmptyCart';

export function CartPage() {
  usePageTitle('Cart');
  const lines = useCart();
  if (lines.length === 0) {
    return <EmptyCart title="Cart" />;
  }
  const total = cartTotal(lines);
  const blocked = lines.some((l) => l.shortage);
  return (
    <section aria-labelledby="cart-title">
      <h1 id="cart-title">Cart</h1>
      <table className="lines">
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Price</th>
            <th scope="col">Quantity</th>
            <th scope="col">Subtotal</th>
            <th scope="col">
              <span className="visually-hidden">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {lines.map((line) => (
            <tr
              key={line.productId}
              data-product-id={line.productId}
              className={line.shortage ? 'shortage' : undefined}
            >
              <th scope="row">
                <Link to={`/products/${line.productId}`}>{line.name}</Link>
                {line.shortage ? (
                  <p className="field-error" role="alert" data-testid="shortage">
                    Not enough stock for {line.name}: only {line.shortage.available} left.
                  </p>
                ) : null}
              </th>
              <td>{money(line.priceCents, line.currency)}</td>
              <td>
                <label className="visually-hidden" htmlFor={`quantity-${line.productId}`}>
                  Quantity of {line.name}
                </label>
                <input
                  id={`quantity-${line.productId}`}
                  name="quantity"
                  type="number"
                  min={0}
                  max={10000}
                  value={line.quantity}
                  onChange={(event) =>
                    setQuantity(line.productId, Math.max(0, Math.trunc(Number(event.target.value))))
                  }
                />
              </td>
              <td>{money(line.priceCents * line.quantity, line.currency)}</td>
              <td>
                <button type="button" onClick={() => setQuantity(line.productId, 0)}>
                  Remove<span className="visually-hidden"> {line.name}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="total">
        Total: <strong>{money(total.cents, total.currency)}</strong>
      </p>
      {blocked ? (
        <p className="field-error">Lower the marked quantities to check out.</p>
      ) : (
        <Link className="button primary" to="/checkout">
          Check out
        </Link>
      )}
    </section>
  );
}
