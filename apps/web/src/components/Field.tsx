import { type InputHTMLAttributes, useId } from 'react';

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  /** The procedure input this field fills, e.g. `priceCents`. */
  name: string;
  label: string;
  /** The server's messages for this field (zod field errors). */
  errors?: string[] | undefined;
  hint?: string;
}

/** A labelled input whose errors are announced and tied to it (aria-describedby). */
export function Field({ name, label, errors, hint, ...input }: FieldProps) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const described = [hint ? hintId : null, errors?.length ? errorId : null].filter(Boolean);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        aria-invalid={errors?.length ? true : undefined}
        aria-describedby={described.length ? described.join(' ') : undefined}
        {...input}
      />
      {hint ? (
        <p id={hintId} className="hint">
          {hint}
        </p>
      ) : null}
      {errors?.length ? (
        <p id={errorId} className="field-error" data-field-error={name}>
          {errors.join('; ')}
        </p>
      ) : null}
    </div>
  );
}
