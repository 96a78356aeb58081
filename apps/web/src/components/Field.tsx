import { type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, useId } from 'react';

interface Described {
  /** The procedure input this field fills, e.g. `priceCents`. */
  name: string;
  label: string;
  /** The server's messages for this field (zod field errors). */
  errors?: string[] | undefined;
  hint?: string | undefined;
}

/** The ids and attributes that tie a control to its label, hint and errors. */
function useDescribed({ hint, errors }: Pick<Described, 'hint' | 'errors'>) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const invalid = Boolean(errors?.length);
  const described = [hint ? hintId : null, invalid ? errorId : null].filter(Boolean);
  return {
    id,
    errorId,
    hintId,
    control: {
      id,
      'aria-invalid': invalid ? true : undefined,
      'aria-describedby': described.length ? described.join(' ') : undefined,
    },
  };
}

function FieldFrame({
  name,
  label,
  errors,
  hint,
  ids,
  children,
}: Described & { ids: { id: string; errorId: string; hintId: string }; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={ids.id}>{label}</label>
      {children}
      {hint ? (
        <p id={ids.hintId} className="hint">
          {hint}
        </p>
      ) : null}
      {errors?.length ? (
        <p id={ids.errorId} className="field-error" data-field-error={name}>
          {errors.join('; ')}
        </p>
      ) : null}
    </div>
  );
}

/** A labelled input whose errors are announced and tied to it (aria-describedby). */
export function Field({
  name,
  label,
  errors,
  hint,
  ...input
}: Described & InputHTMLAttributes<HTMLInputElement>) {
  const { control, ...ids } = useDescribed({ errors, hint });
  return (
    <FieldFrame {...{ name, label, errors, hint, ids }}>
      <input name={name} {...control} {...input} />
    </FieldFrame>
  );
}

/** A labelled select, described like `Field`. */
export function SelectField({
  name,
  label,
  errors,
  hint,
  children,
  ...select
}: Described & SelectHTMLAttributes<HTMLSelectElement>) {
  const { control, ...ids } = useDescribed({ errors, hint });
  return (
    <FieldFrame {...{ name, label, errors, hint, ids }}>
      <select name={name} {...control} {...select}>
        {children}
      </select>
    </FieldFrame>
  );
}
