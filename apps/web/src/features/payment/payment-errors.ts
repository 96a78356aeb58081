import { type KeelErrorDetail, keelErrorDetail, keelFieldErrors } from '@keel/client';

type DeclineReason = Extract<KeelErrorDetail, { reason: 'PAYMENT_DECLINED' }>['declineReason'];

const declineReasons: Record<DeclineReason, string> = {
  card_declined: 'the card was declined',
  insufficient_funds: 'insufficient funds on this card',
  expired_card: 'the card has expired',
  incorrect_cvc: 'the CVC is incorrect',
  card_not_supported: 'this card is not supported',
};

/**
 * What a declined payment tells the customer, naming the provider's reason,
 * or null when the error is not a decline. A reason this build does not know
 * yet (a newer server) falls back to the server's own sentence.
 */
export function declineMessage(error: unknown): string | null {
  const detail = keelErrorDetail(error);
  if (detail?.reason !== 'PAYMENT_DECLINED') return null;
  const reason =
    declineReasons[detail.declineReason] ??
    (error instanceof Error ? error.message : 'the card was declined');
  return `Payment declined: ${reason}. Nothing was charged; try another card.`;
}

export const cardParts = ['number', 'expiryMonth', 'expiryYear', 'cvc'] as const;
export type CardPart = (typeof cardParts)[number];

/**
 * The server's messages for each card input: its field errors name each
 * input by its whole path (`card.number`, `card.cvc`).
 */
export function cardFieldErrors(error: unknown): Partial<Record<CardPart, string[]>> {
  const errors = keelFieldErrors(error);
  if (!errors) return {};
  const found: Partial<Record<CardPart, string[]>> = {};
  for (const part of cardParts) {
    const messages = errors[`card.${part}`];
    if (messages?.length) found[part] = messages;
  }
  return found;
}
