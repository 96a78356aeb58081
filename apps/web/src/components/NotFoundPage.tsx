import { Link } from 'react-router';
import { usePageTitle } from '../usePageTitle';

export function NotFoundPage() {
  usePageTitle('Not found');
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to the catalogue</Link>
      </p>
    </section>
  );
}
