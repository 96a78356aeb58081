import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { ErrorState } from '../../components/Status';
import { money } from '../../format';
import { useTRPC } from '../../trpc';
import { usePageTitle } from '../../usePageTitle';
import { addToCart, useCart } from '../cart/cart';

export function ProductPage() {
  const { id = '' } = useParams();
  const trpc = useTRPC();
  const query = useQuery(trpc.products.byId.queryOptions({ id }));
  const cart = useCart();
  const [added, setAdded] = useState(false);
  usePageTitle(query.data?.name ?? 'Product');

  if (query.isPending) {
    return (
      <section aria-busy="true">
        <h1 className="skeleton-line">Loading…</h1>
      </section>
    );
  }
  if (query.isError) return <ErrorState error={query.error} retry={() => void query.refetch()} />;

  const product = query.data;
  const inCart = cart.find((line) => line.productId === product.id)?.quantity ?? 0;
  return (
    <article className="product-page" aria-labelledby="product-title">
      <p>
        <Link to="/">← Catalogue</Link>
      </p>
      <h1 id="product-title">{product.name}</h1>
      <p className="product-price">{money(product.priceCents, product.currency)}</p>
      <p className="product-sku">SKU {product.sku}</p>
      <p className="product-stock" data-testid="stock">
        {product.stockQuantity > 0 ? `${product.stockQuantity} in stock` : 'Sold out'}
      </p>
      {product.description ? <p className="product-description">{product.description}</p> : null}
      <button
        type="button"
        className="primary"
        disabled={product.stockQuantity === 0}
        onClick={() => {
          addToCart({
            productId: product.id,
            name: product.name,
            priceCents: product.priceCents,
            currency: product.currency,
          });
          setAdded(true);
        }}
      >
        Add to cart
      </button>
      <p role="status" className="added">
        {added ? (
          <>
            Added. {inCart} in your <Link to="/cart">cart</Link>.
          </>
        ) : null}
      </p>
    </article>
  );
}
