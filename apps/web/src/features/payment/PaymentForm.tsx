import type { RouterOutputs } from '@keel/client';
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useId } from 'react';
import { Field, SelectField } from '../../components/Field';
import { FormError } from '../../components/Status';
import { useTRPC } from '../../trpc';
import { cardFieldErrors, declineMessage } from './payment-errors';

type PaidOrder = RouterOutputs['orders']['pay'];

const months = Array.from({ length: 12 }, (_, i) => i + 1);
const thisYear = new Date().getFullYear();
const years = Array.from({ length: 21 }, (_, i) => thisYear + i);

function cardOf(event: FormEvent<HTMLFormElement>) {
  event.preventDefault();
  const data = new FormData(event.currentTarget);
  const text = (name: string) => String(data.get(name) ?? '');
  return {
    number: text('card.number'),
    // An unchosen select sends 0, which the server refuses by field.
    expiryMonth: Number(text('card.expiryMonth')),
    expiryYear: Number(text('card.expiryYear')),
    cvc: text('card.cvc').trim(),
  };
}

/**
 * The card form for one unpaid order, sent to `orders.pay`. A declined card
 * names the provider's reason and the form stays for another card; invalid
 * input is shown beside its field.
 */
export function PaymentForm({
  orderId,
  amount,
  onPaid,
}: {
  orderId: string;
  /** The formatted total, shown on the button. */
  amount: string;
  onPaid: (order: PaidOrder) => void;
}) {
  const trpc = useTRPC();
  const pay = useMutation(
    // gcTime 0: the card number (the mutation's variables) leaves memory as
    // soon as the form does.
    trpc.orders.pay.mutationOptions({ gcTime: 0, onSuccess: onPaid }),
  );
  const titleId = useId();
  const declined = declineMessage(pay.error);
  const errors = cardFieldErrors(pay.error);
  return (
    <form
      noValidate
      className="payment-form"
      aria-labelledby={titleId}
      onSubmit={(event) => pay.mutate({ id: orderId, card: cardOf(event) })}
    >
      <h2 id={titleId}>Card details</h2>
      {declined ? (
        <p className="form-error" role="alert" data-testid="payment-declined">
          {declined}
        </p>
      ) : (
        <FormError error={pay.error} />
      )}
      <p className="test-mode">
        Test mode: nothing is charged. Pay with the test card 4242 4242 4242 4242, any future expiry
        date and any CVC.
      </p>
      <Field
        name="card.number"
        label="Card number"
        inputMode="numeric"
        autoComplete="cc-number"
        maxLength={23}
        hint="Spaces are fine. Test card: 4242 4242 4242 4242."
        errors={errors.number}
      />
      <div className="card-row">
        <SelectField
          name="card.expiryMonth"
          label="Expiry month"
          autoComplete="cc-exp-month"
          defaultValue=""
          errors={errors.expiryMonth && ['choose the month printed on the card']}
        >
          <option value="">MM</option>
          {months.map((m) => (
            <option key={m} value={m}>
              {String(m).padStart(2, '0')}
            </option>
          ))}
        </SelectField>
        <SelectField
          name="card.expiryYear"
          label="Expiry year"
          autoComplete="cc-exp-year"
          defaultValue=""
          errors={errors.expiryYear && ['choose the year printed on the card']}
        >
          <option value="">YYYY</option>
          {years.map((y) => (
            <option key={y} value={y}>
              {y}
            </option>
          ))}
        </SelectField>
        <Field
          name="card.cvc"
          label="CVC"
          inputMode="numeric"
          autoComplete="cc-csc"
          maxLength={4}
          errors={errors.cvc}
        />
      </div>
      <button type="submit" className="primary" disabled={pay.isPending}>
        {pay.isPending ? 'Paying…' : `Pay ${amount}`}
      </button>
    </form>
  );
}
