import {
  keelErrorCode,
  keelFieldErrors,
  type RouterInputs,
  type RouterOutputs,
} from '@keel/client';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, Route, Routes, useNavigate, useParams } from 'react-router';
import { Field } from '../../components/Field';
import { LoadMore } from '../../components/LoadMore';
import { EmptyState, ErrorState, FormError } from '../../components/Status';
import { dateTime, money } from '../../format';
import { useTRPC } from '../../trpc';
import { usePageTitle } from '../../usePageTitle';
import { useMe } from '../auth/useMe';

type Product = RouterOutputs['products']['byId'];
type OrderStatus = RouterInputs['orders']['updateStatus']['status'];

/** The admin area: only admins get past this guard (the server checks every call too). */
export default function AdminPages() {
  const { me, pending } = useMe();
  if (pending) return <p className="state">Loading…</p>;
  if (me?.role !== 'admin') {
    return <AdminsOnly signedIn={me !== null} />;
  }
  return (
    <Routes>
      <Route index element={<AdminHome />} />
      <Route path="products" element={<AdminProducts />} />
      <Route path="products/new" element={<ProductEditor />} />
      <Route path="products/:id" element={<ProductEditor />} />
      <Route path="orders" element={<AdminOrders />} />
    </Routes>
  );
}

function AdminsOnly({ signedIn }: { signedIn: boolean }) {
  usePageTitle('Admins only');
  return (
    <section>
      <h1>Admins only</h1>
      <p role="alert">
        This part of the shop is for administrators.{' '}
        {signedIn ? (
          <Link to="/">Back to the catalogue</Link>
        ) : (
          <Link to="/login?next=/admin">Log in as an administrator</Link>
        )}
      </p>
    </section>
  );
}

function AdminHome() {
  usePageTitle('Admin');
  return (
    <section>
      <h1>Admin</h1>
      <ul className="admin-links">
        <li>
          <Link to="/admin/products">Products</Link>
        </li>
        <li>
          <Link to="/admin/products/new">New product</Link>
        </li>
        <li>
          <Link to="/admin/orders">Orders</Link>
        </li>
      </ul>
    </section>
  );
}

function AdminProducts() {
  usePageTitle('Products · Admin');
  const trpc = useTRPC();
  const query = useInfiniteQuery(
    trpc.products.list.infiniteQueryOptions(
      { limit: 50, sort: 'name', includeInactive: true },
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
  );
  const products = query.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="admin-products-title">
      <h1 id="admin-products-title">Products</h1>
      <p>
        <Link className="button" to="/admin/products/new">
          New product
        </Link>
      </p>
      {query.isPending ? (
        <p className="state">Loading…</p>
      ) : query.isError ? (
        <ErrorState error={query.error} retry={() => void query.refetch()} />
      ) : products.length === 0 ? (
        <EmptyState>No products yet.</EmptyState>
      ) : (
        <table className="lines">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">SKU</th>
              <th scope="col">Price</th>
              <th scope="col">Stock</th>
              <th scope="col">Active</th>
            </tr>
          </thead>
          <tbody>
            {products.map((p) => (
              <tr key={p.id}>
                <th scope="row">
                  <Link to={`/admin/products/${p.id}`}>{p.name}</Link>
                </th>
                <td>{p.sku}</td>
                <td>{money(p.priceCents, p.currency)}</td>
                <td>{p.stockQuantity}</td>
                <td>{p.isActive ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <LoadMore pages={query} />
    </section>
  );
}

function readProductForm(event: FormEvent<HTMLFormElement>) {
  event.preventDefault();
  const form = new FormData(event.currentTarget);
  const text = (name: string) => String(form.get(name) ?? '');
  const number = (name: string) => (text(name).trim() === '' ? Number.NaN : Number(text(name)));
  return {
    sku: text('sku').trim(),
    name: text('name'),
    description: text('description'),
    priceCents: number('priceCents'),
    currency: text('currency').trim(),
    stockQuantity: number('stockQuantity'),
    isActive: form.get('isActive') === 'on',
  };
}

/** Create (no id) or edit a product; an edit carries `expectedUpdatedAt`, so a stale one is refused. */
function ProductEditor() {
  const { id } = useParams();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const existing = useQuery({
    ...trpc.products.byId.queryOptions({ id: id ?? '' }),
    enabled: !!id,
  });
  const [saved, setSaved] = useState(false);
  const onSaved = (product: Product) => {
    queryClient.setQueryData(trpc.products.byId.queryKey({ id: product.id }), product);
    void queryClient.invalidateQueries({ queryKey: trpc.products.list.pathKey() });
    setSaved(true);
    if (!id) void navigate(`/admin/products/${product.id}`);
  };
  const create = useMutation(trpc.products.create.mutationOptions({ onSuccess: onSaved }));
  const update = useMutation(trpc.products.update.mutationOptions({ onSuccess: onSaved }));
  const mutation = id ? update : create;
  usePageTitle(id ? 'Edit product · Admin' : 'New product · Admin');

  if (id && existing.isPending) return <p className="state">Loading…</p>;
  if (id && existing.isError) {
    return <ErrorState error={existing.error} retry={() => void existing.refetch()} />;
  }
  const product = existing.data;
  const errors = keelFieldErrors(mutation.error) ?? {};
  const conflict = id && keelErrorCode(update.error) === 'CONFLICT' && !errors.sku;

  return (
    <section className="narrow" aria-labelledby="editor-title">
      <p>
        <Link to="/admin/products">← Products</Link>
      </p>
      <h1 id="editor-title">{product ? `Edit ${product.name}` : 'New product'}</h1>
      {conflict ? (
        <div className="conflict" role="alert" data-testid="conflict">
          <p>Someone else changed this product after you opened it, so your edit was not saved.</p>
          <button
            type="button"
            onClick={() => {
              update.reset();
              void existing.refetch();
            }}
          >
            Reload the latest version
          </button>
        </div>
      ) : (
        <FormError error={mutation.error} />
      )}
      <form
        noValidate
        // A reload shows the latest values: the form is rebuilt for each version.
        key={product ? product.updatedAt.toISOString() : 'new'}
        onSubmit={(event) => {
          setSaved(false);
          const values = readProductForm(event);
          if (product) {
            update.mutate({ id: product.id, expectedUpdatedAt: product.updatedAt, ...values });
          } else {
            create.mutate(values);
          }
        }}
      >
        <Field name="sku" label="SKU" defaultValue={product?.sku ?? ''} errors={errors.sku} />
        <Field name="name" label="Name" defaultValue={product?.name ?? ''} errors={errors.name} />
        <div className="field">
          <label htmlFor="description">Description</label>
          <textarea
            id="description"
            name="description"
            rows={4}
            defaultValue={product?.description ?? ''}
            aria-describedby={errors.description ? 'description-error' : undefined}
          />
          {errors.description ? (
            <p id="description-error" className="field-error">
              {errors.description.join('; ')}
            </p>
          ) : null}
        </div>
        <Field
          name="priceCents"
          label="Price (cents)"
          type="number"
          min={0}
          defaultValue={product?.priceCents ?? ''}
          errors={errors.priceCents}
        />
        <Field
          name="currency"
          label="Currency"
          defaultValue={product?.currency ?? 'USD'}
          errors={errors.currency}
        />
        <Field
          name="stockQuantity"
          label="Stock"
          type="number"
          min={0}
          defaultValue={product?.stockQuantity ?? 0}
          errors={errors.stockQuantity}
        />
        <div className="field checkbox">
          <input
            id="isActive"
            name="isActive"
            type="checkbox"
            defaultChecked={product?.isActive ?? true}
          />
          <label htmlFor="isActive">Shown in the catalogue</label>
        </div>
        <button type="submit" className="primary" disabled={mutation.isPending}>
          {mutation.isPending ? 'Saving…' : 'Save'}
        </button>
        <p role="status">{saved && !mutation.isPending ? 'Saved.' : ''}</p>
      </form>
    </section>
  );
}

const moves: Record<string, OrderStatus[]> = {
  pending: ['paid', 'cancelled'],
  paid: ['shipped', 'cancelled'],
  shipped: ['delivered'],
};

function AdminOrders() {
  usePageTitle('Orders · Admin');
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const query = useInfiniteQuery(
    trpc.orders.list.infiniteQueryOptions(
      { limit: 50, allUsers: true },
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
  );
  const move = useMutation(
    trpc.orders.updateStatus.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.orders.pathKey() }),
    }),
  );
  const orders = query.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="admin-orders-title">
      <h1 id="admin-orders-title">Orders</h1>
      <FormError error={move.error} />
      {query.isPending ? (
        <p className="state">Loading…</p>
      ) : query.isError ? (
        <ErrorState error={query.error} retry={() => void query.refetch()} />
      ) : orders.length === 0 ? (
        <EmptyState>No orders yet.</EmptyState>
      ) : (
        <table className="lines">
          <thead>
            <tr>
              <th scope="col">Placed</th>
              <th scope="col">Total</th>
              <th scope="col">Status</th>
              <th scope="col">Move to</th>
            </tr>
          </thead>
          <tbody>
            {orders.map((order) => (
              <tr key={order.id} data-order-id={order.id}>
                <th scope="row">{dateTime(order.placedAt)}</th>
                <td>{money(order.totalCents, order.currency)}</td>
                <td>{order.status}</td>
                <td>
                  {(moves[order.status] ?? []).map((status) => (
                    <button
                      key={status}
                      type="button"
                      disabled={move.isPending}
                      onClick={() => move.mutate({ id: order.id, status })}
                    >
                      Mark {status}
                    </button>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <LoadMore pages={query} />
    </section>
  );
}
