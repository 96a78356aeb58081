import { createHash } from 'node:crypto';
import type { ChargeResult, DeclineReason, PaymentProvider } from './payment-provider';

/**
 * The test provider's cards. Like the test modes of real providers, the
 * number alone decides the answer; any expiry in the future and any CVC are
 * accepted, except where the card says otherwise.
 */
export const testCards = {
  approved: ['4242424242424242', '5555555555554444'],
  declined: {
    '4000000000000002': 'card_declined',
    '4000000000009995': 'insufficient_funds',
    '4000000000000069': 'expired_card',
    '4000000000000127': 'incorrect_cvc',
  } satisfies Record<string, DeclineReason>,
} as const;

/**
 * A payment provider that charges nothing: cards in `testCards` approve or
 * decline, every other number is `card_not_supported`, and a card whose
 * expiry has passed is `expired_card`. The same order always gets the same
 * reference, as a real provider's idempotency key would give.
 *
 * @example
 * ```ts
 * import { createTestPaymentProvider } from '@keel/api';
 * const provider = createTestPaymentProvider();
 * await provider.charge({ orderId, amountCents: 500, currency: 'USD', idempotencyKey: orderId,
 *   card: { number: '4242424242424242', expiryMonth: 12, expiryYear: 2030, cvc: '123' } });
 * ```
 */
export function createTestPaymentProvider(clock: () => Date = () => new Date()): PaymentProvider {
  return {
    name: 'test',
    async charge({ card, idempotencyKey }): Promise<ChargeResult> {
      const now = clock();
      const expired =
        card.expiryYear < now.getUTCFullYear() ||
        (card.expiryYear === now.getUTCFullYear() && card.expiryMonth < now.getUTCMonth() + 1);
      if (expired) return { status: 'declined', reason: 'expired_card' };
      const declined = (testCards.declined as Record<string, DeclineReason>)[card.number];
      if (declined) return { status: 'declined', reason: declined };
      if (!(testCards.approved as readonly string[]).includes(card.number)) {
        return { status: 'declined', reason: 'card_not_supported' };
      }
      const digest = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 24);
      return { status: 'approved', reference: `test_ch_${digest}` };
    },
  };
}
