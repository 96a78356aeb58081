import { keelFieldErrors } from '@keel/client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { Field } from '../../components/Field';
import { FormError } from '../../components/Status';
import { useTRPC } from '../../trpc';
import { usePageTitle } from '../../usePageTitle';
import { setToken } from './session';

/** Where to go after signing in: a local path from `?next=`, else the catalogue. */
function useNext(): string {
  const [params] = useSearchParams();
  const next = params.get('next');
  return next?.startsWith('/') && !next.startsWith('//') ? next : '/';
}

function formValues(event: FormEvent<HTMLFormElement>): Record<string, string> {
  event.preventDefault();
  return Object.fromEntries(
    [...new FormData(event.currentTarget).entries()].map(([k, v]) => [k, String(v)]),
  );
}

function useSignedIn() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const next = useNext();
  return ({ token }: { token: string }) => {
    setToken(token);
    queryClient.clear();
    void navigate(next);
  };
}

export function LoginPage() {
  usePageTitle('Log in');
  const trpc = useTRPC();
  const next = useNext();
  const login = useMutation(trpc.auth.login.mutationOptions({ onSuccess: useSignedIn() }));
  const errors = keelFieldErrors(login.error) ?? {};
  return (
    <section className="narrow" aria-labelledby="login-title">
      <h1 id="login-title">Log in</h1>
      <form
        noValidate
        onSubmit={(event) => {
          const { email = '', password = '' } = formValues(event);
          login.mutate({ email, password });
        }}
      >
        <FormError error={login.error} />
        <Field name="email" label="Email" type="email" autoComplete="email" errors={errors.email} />
        <Field
          name="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          errors={errors.password}
        />
        <button type="submit" className="primary" disabled={login.isPending}>
          {login.isPending ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <p>
        New here? <Link to={`/register?next=${encodeURIComponent(next)}`}>Create an account</Link>.
      </p>
    </section>
  );
}

export function RegisterPage() {
  usePageTitle('Register');
  const trpc = useTRPC();
  const next = useNext();
  const register = useMutation(trpc.auth.register.mutationOptions({ onSuccess: useSignedIn() }));
  const errors = keelFieldErrors(register.error) ?? {};
  return (
    <section className="narrow" aria-labelledby="register-title">
      <h1 id="register-title">Create an account</h1>
      <form
        noValidate
        onSubmit={(event) => {
          const { email = '', password = '', displayName = '' } = formValues(event);
          register.mutate({ email, password, displayName });
        }}
      >
        <FormError error={register.error} />
        <Field
          name="displayName"
          label="Your name"
          autoComplete="name"
          errors={errors.displayName}
        />
        <Field name="email" label="Email" type="email" autoComplete="email" errors={errors.email} />
        <Field
          name="password"
          label="Password"
          type="password"
          autoComplete="new-password"
          hint="At least 12 characters."
          errors={errors.password}
        />
        <button type="submit" className="primary" disabled={register.isPending}>
          {register.isPending ? 'Creating account…' : 'Create account'}
        </button>
      </form>
      <p>
        Have an account? <Link to={`/login?next=${encodeURIComponent(next)}`}>Log in</Link>.
      </p>
    </section>
  );
}
