import type { RouterInputs } from '@keel/client';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { LoadMore } from '../../components/LoadMore';
import { EmptyState, ErrorState } from '../../components/Status';
import { money } from '../../format';
import { useTRPC } from '../../trpc';
import { usePageTitle } from '../../usePageTitle';

type ListInput = Extract<RouterInputs['products']['list'], { sort?: unknown }>;
type Sort = NonNullable<ListInput['sort']>;
const sorts: { value: Sort; label: string }[] = [
  { value: 'newest', label: 'Newest' },
  { value: 'price_asc', label: 'Price: low to high' },
  { value: 'price_desc', label: 'Price: high to low' },
  { value: 'name', label: 'Name' },
];
export const pageSize = 24;

/** Letters and digits in a search: what the server's index can match on. */
function searchableLength(value: string): number {
  return value.match(/[\p{L}\p{N}]/gu)?.length ?? 0;
}

function isSort(value: string | null): value is Sort {
  return sorts.some((s) => s.value === value);
}

function centsParam(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** What the URL says the catalogue shows: a reload or a shared link shows the same view. */
function useCatalogueView() {
  const [params, setParams] = useSearchParams();
  const sortParam = params.get('sort');
  const view = {
    sort: isSort(sortParam) ? sortParam : ('newest' as Sort),
    search: params.get('search')?.trim() || undefined,
    minPriceCents: centsParam(params.get('minPriceCents')),
    maxPriceCents: centsParam(params.get('maxPriceCents')),
  };
  const update = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined || value === '') next.delete(key);
      else next.set(key, value);
    }
    setParams(next, { replace: true });
  };
  return { view, update };
}

export function CataloguePage() {
  usePageTitle('Catalogue');
  const trpc = useTRPC();
  const { view, update } = useCatalogueView();
  const input = {
    limit: pageSize,
    sort: view.sort,
    ...(view.search ? { search: view.search } : {}),
    ...(view.minPriceCents !== undefined ? { minPriceCents: view.minPriceCents } : {}),
    ...(view.maxPriceCents !== undefined ? { maxPriceCents: view.maxPriceCents } : {}),
  };
  const query = useInfiniteQuery(
    trpc.products.list.infiniteQueryOptions(input, {
      getNextPageParam: (last) => last.nextCursor ?? undefined,
    }),
  );
  const products = query.data?.pages.flatMap((page) => page.items) ?? [];

  const { isFetchingNextPage, fetchNextPage } = query;

  return (
    <section aria-labelledby="catalogue-title">
      <h1 id="catalogue-title">Catalogue</h1>
      <Filters view={view} update={update} />
      {query.isError && products.length === 0 ? (
        <ErrorState error={query.error} retry={() => void query.refetch()} />
      ) : query.isPending ? (
        <ul className="product-grid" aria-busy="true" aria-label="Loading products">
          {Array.from({ length: 12 }, (_, i) => (
            <SkeletonCard key={i} />
          ))}
        </ul>
      ) : products.length === 0 ? (
        <EmptyState>
          <p>No products match these filters.</p>
        </EmptyState>
      ) : (
        <>
          <p className="visually-hidden" role="status">
            {products.length} products shown
          </p>
          <ul className="product-grid" data-testid="product-grid">
            {products.map((product) => (
              <li key={product.id} className="product-card" data-product-id={product.id}>
                <Link to={`/products/${product.id}`}>
                  <span className="product-name">{product.name}</span>
                </Link>
                <span className="product-price">{money(product.priceCents, product.currency)}</span>
                <span className="product-stock">
                  {product.stockQuantity > 0 ? `${product.stockQuantity} in stock` : 'Sold out'}
                </span>
              </li>
            ))}
            {isFetchingNextPage
              ? Array.from({ length: 4 }, (_, i) => <SkeletonCard key={`more-${i}`} />)
              : null}
          </ul>
          {query.isError ? (
            <ErrorState error={query.error} retry={() => void fetchNextPage()} />
          ) : null}
          {/* Infinite scroll: the next page loads well before the end comes into view. */}
          <LoadMore pages={query} onScroll rootMargin="600px" done={<p>That is everything.</p>} />
        </>
      )}
    </section>
  );
}

function SkeletonCard() {
  return (
    <li className="product-card skeleton" aria-hidden="true">
      <span className="skeleton-line" />
      <span className="skeleton-line short" />
    </li>
  );
}

interface FiltersProps {
  view: ReturnType<typeof useCatalogueView>['view'];
  update: ReturnType<typeof useCatalogueView>['update'];
}

const toCents = (value: string) => {
  if (value.trim() === '') return undefined;
  const n = Math.round(Number(value) * 100);
  return Number.isSafeInteger(n) && n >= 0 ? String(n) : undefined;
};
const fromCents = (cents: number | undefined) => (cents === undefined ? '' : String(cents / 100));

function Filters({ view, update }: FiltersProps) {
  const [search, setSearch] = useState(view.search ?? '');
  // The server searches only with 3 letters or digits (shorter ones cannot use its index).
  const searchable = searchableLength(search) >= 3;
  const wanted = searchable ? search.trim() : '';
  // Typing updates the URL (and the list) after a short pause.
  useEffect(() => {
    const timer = setTimeout(() => {
      if ((view.search ?? '') !== wanted) update({ search: wanted || undefined });
    }, 300);
    return () => clearTimeout(timer);
  });
  return (
    <search>
      <form className="filters" onSubmit={(event) => event.preventDefault()}>
        <div className="field">
          <label htmlFor="search">Search</label>
          <input
            id="search"
            name="search"
            type="search"
            value={search}
            maxLength={200}
            aria-describedby="search-hint"
            onChange={(event) => setSearch(event.target.value)}
          />
          <p id="search-hint" className="hint">
            {search.trim() !== '' && !searchable ? 'Type at least 3 letters or digits.' : '\u00a0'}
          </p>
        </div>
        <div className="field">
          <label htmlFor="sort">Sort by</label>
          <select
            id="sort"
            name="sort"
            value={view.sort}
            onChange={(event) => update({ sort: event.target.value })}
          >
            {sorts.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="minPriceCents">Min price ($)</label>
          <input
            id="minPriceCents"
            name="minPriceCents"
            type="number"
            min={0}
            step="0.01"
            inputMode="decimal"
            defaultValue={fromCents(view.minPriceCents)}
            onChange={(event) => update({ minPriceCents: toCents(event.target.value) })}
          />
        </div>
        <div className="field">
          <label htmlFor="maxPriceCents">Max price ($)</label>
          <input
            id="maxPriceCents"
            name="maxPriceCents"
            type="number"
            min={0}
            step="0.01"
            inputMode="decimal"
            defaultValue={fromCents(view.maxPriceCents)}
            onChange={(event) => update({ maxPriceCents: toCents(event.target.value) })}
          />
        </div>
      </form>
    </search>
  );
}
