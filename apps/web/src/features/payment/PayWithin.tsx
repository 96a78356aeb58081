/**
 * The worker cancels unpaid orders after PENDING_ORDER_TTL_SECONDS, which
 * the API does not publish; the sentence names the default.
 */
export function PayWithin() {
  return (
    <p className="pay-within">
      Please pay within 30 minutes of placing the order: unpaid orders are cancelled and their items
      go back on sale.
    </p>
  );
}
