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
 * The server's messages for each card input. zod's flattened field errors
 * key a nested input by its first segment only (`card`), so the part each
 * message belongs to is read from the error's message, which names every
 * field by its full path (`invalid input: card.number: is not a valid card
 * number (check digit); card.cvc: …`). A message it cannot place goes to the
 * card number, so none is lost.
 */
export function cardFieldErrors(error: unknown): Partial<Record<CardPart, string[]>> {
  const messages = keelFieldErrors(error)?.card;
  if (!messages?.length || !(error instanceof Error)) return {};
  const found: Partial<Record<CardPart, string[]>> = {};
  const placed = new Set<string>();
  for (const part of error.message.replace(/^invalid input: /, '').split('; ')) {
    const match = /^card\.(\w+): (.*)$/.exec(part);
    const field = cardParts.find((p) => p === match?.[1]);
    const message = match?.[2];
    if (!field || !message || !messages.includes(message)) continue;
    found[field] = [...(found[field] ?? []), message];
    placed.add(message);
  }
  const rest = messages.filter((m) => !placed.has(m));
  if (rest.length) found.number = [...(found.number ?? []), ...rest];
  return found;
}
