import { useMutation, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useRef } from 'react';
import { Link, NavLink, Route, Routes, useLocation } from 'react-router';
import { NotFoundPage } from './components/NotFoundPage';
import { LoginPage, RegisterPage } from './features/auth/AuthPages';
import { setToken } from './features/auth/session';
import { useMe } from './features/auth/useMe';
import { CartPage } from './features/cart/CartPage';
import { useCart } from './features/cart/cart';
import { CataloguePage } from './features/catalogue/CataloguePage';
import { ProductPage } from './features/catalogue/ProductPage';
import { CheckoutPage } from './features/checkout/CheckoutPage';
import { OrderPage } from './features/orders/OrderPage';
import { OrdersPage } from './features/orders/OrdersPage';
import { PaymentPage } from './features/payment/PaymentPage';
import { useTRPC } from './trpc';

// Admin pages load on demand: customers never download them.
const AdminPages = lazy(() => import('./features/admin/AdminPages'));

export function App() {
  const location = useLocation();
  const main = useRef<HTMLElement>(null);
  // Move focus to the page's content on navigation, as a full page load would.
  const firstRender = useRef(true);
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    main.current?.focus();
  }, [location.pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" ref={main} tabIndex={-1}>
        <Routes>
          <Route path="/" element={<CataloguePage />} />
          <Route path="/products/:id" element={<ProductPage />} />
          <Route path="/cart" element={<CartPage />} />
          <Route path="/checkout" element={<CheckoutPage />} />
          <Route path="/orders" element={<OrdersPage />} />
          <Route path="/orders/:id" element={<OrderPage />} />
          <Route path="/orders/:id/pay" element={<PaymentPage />} />
          <Route path="/login" element={<LoginPage />} />
          <Route path="/register" element={<RegisterPage />} />
          <Route
            path="/admin/*"
            element={
              <Suspense fallback={<p className="state">Loading…</p>}>
                <AdminPages />
              </Suspense>
            }
          />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </main>
    </>
  );
}

function Header() {
  const { me } = useMe();
  const cart = useCart();
  const count = cart.reduce((sum, line) => sum + line.quantity, 0);
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSettled: () => {
        setToken(null);
        queryClient.clear();
      },
    }),
  );
  return (
    <header className="site-header">
      <Link to="/" className="brand">
        Keel shop
      </Link>
      <nav aria-label="Main">
        <ul>
          <li>
            <NavLink to="/" end>
              Catalogue
            </NavLink>
          </li>
          <li>
            <NavLink to="/cart">
              Cart <span className="badge">{count}</span>
              <span className="visually-hidden"> items</span>
            </NavLink>
          </li>
          {me ? (
            <li>
              <NavLink to="/orders">My orders</NavLink>
            </li>
          ) : null}
          {me?.role === 'admin' ? (
            <li>
              <NavLink to="/admin">Admin</NavLink>
            </li>
          ) : null}
          {me ? (
            <li className="account">
              <span className="who">{me.displayName}</span>
              <button type="button" className="link-button" onClick={() => logout.mutate()}>
                Log out
              </button>
            </li>
          ) : (
            <>
              <li>
                <NavLink to="/login">Log in</NavLink>
              </li>
              <li>
                <NavLink to="/register">Register</NavLink>
              </li>
            </>
          )}
        </ul>
      </nav>
    </header>
  );
}
