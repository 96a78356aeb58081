// What Keel needs from a payment provider: charge a card once per order. A
// real provider (Stripe, Adyen, …) implements the same interface; the
// built-in `test` provider answers from the card number alone, as the test
// modes of real providers do.

/** A card as the customer typed it. Only its last four digits are ever stored. */
export interface Card {
  number: string;
  expiryMonth: number;
  expiryYear: number;
  cvc: string;
}

export interface ChargeRequest {
  orderId: string;
  amountCents: number;
  currency: string;
  card: Card;
  /** The same key for a retried charge of the same order: a provider charges it once. */
  idempotencyKey: string;
}

/** Why a provider refused a card; the customer sees it. */
export type DeclineReason =
  | 'card_declined'
  | 'insufficient_funds'
  | 'expired_card'
  | 'incorrect_cvc'
  | 'card_not_supported';

export type ChargeResult =
  | { status: 'approved'; reference: string }
  | { status: 'declined'; reason: DeclineReason };

/** The provider the server charges through; chosen by `PAYMENT_PROVIDER`. */
export interface PaymentProvider {
  /** Stored with each payment (`payments.provider`). */
  readonly name: string;
  charge(request: ChargeRequest): Promise<ChargeResult>;
}
