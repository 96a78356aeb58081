import { keelErrorCode, keelFieldErrors } from '@keel/client';
import type { ReactNode } from 'react';

/** A problem the page cannot show data for, with a way to try again. */
export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  const code = keelErrorCode(error);
  const message =
    code === 'NOT_FOUND'
      ? 'Not found.'
      : code === 'UNAUTHORIZED'
        ? 'Please sign in.'
        : code === 'FORBIDDEN'
          ? 'You are not allowed to see this.'
          : 'Something went wrong. Check your connection and try again.';
  return (
    <div className="state error-state" role="alert">
      <p>{message}</p>
      {retry ? (
        <button type="button" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function EmptyState({ children }: { children: ReactNode }) {
  return (
    <div className="state empty-state" role="status">
      {children}
    </div>
  );
}

/** The first line of an error a form shows above its fields. */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  const fields = keelFieldErrors(error);
  const message =
    fields && Object.keys(fields).length > 0
      ? 'Please correct the fields marked below.'
      : error instanceof Error && keelErrorCode(error) !== null
        ? error.message
        : 'Something went wrong. Check your connection and try again.';
  return (
    <p className="form-error" role="alert">
      {message}
    </p>
  );
}
