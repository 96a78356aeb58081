// The cart, kept in localStorage so it survives reloads and is shared by tabs.
import { useSyncExternalStore } from 'react';

export interface CartLine {
  productId: string;
  name: string;
  priceCents: number;
  currency: string;
  quantity: number;
  /** Set when checkout found too little stock: what is left. */
  shortage?: { available: number } | undefined;
}

const key = 'keel.cart';
const listeners = new Set<() => void>();
let lines: CartLine[] = load();

function load(): CartLine[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(key) ?? '[]');
    return Array.isArray(parsed) ? (parsed as CartLine[]) : [];
  } catch {
    return [];
  }
}

function save(next: CartLine[]): void {
  lines = next;
  localStorage.setItem(key, JSON.stringify(next));
  for (const listener of listeners) listener();
}

export function cartLines(): CartLine[] {
  return lines;
}

export function addToCart(product: Omit<CartLine, 'quantity' | 'shortage'>, quantity = 1): void {
  const existing = lines.find((l) => l.productId === product.productId);
  save(
    existing
      ? lines.map((l) =>
          l.productId === product.productId
            ? { ...l, quantity: l.quantity + quantity, shortage: undefined }
            : l,
        )
      : [...lines, { ...product, quantity }],
  );
}

export function setQuantity(productId: string, quantity: number): void {
  save(
    quantity <= 0
      ? lines.filter((l) => l.productId !== productId)
      : lines.map((l) => (l.productId === productId ? { ...l, quantity, shortage: undefined } : l)),
  );
}

export function markShortage(productId: string, available: number): void {
  save(lines.map((l) => (l.productId === productId ? { ...l, shortage: { available } } : l)));
}

export function clearCart(): void {
  save([]);
}

/** What the cart comes to, in the currency of its lines (an order has one currency). */
export function cartTotal(current: CartLine[]): { cents: number; currency: string } {
  return {
    cents: current.reduce((sum, l) => sum + l.priceCents * l.quantity, 0),
    currency: current[0]?.currency ?? 'USD',
  };
}

/** A fingerprint of what is being bought: a changed cart is a new checkout attempt. */
export function cartSignature(current: CartLine[]): string {
  return current.map((l) => `${l.productId}:${l.quantity}`).join(',');
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useCart(): CartLine[] {
  return useSyncExternalStore(subscribe, cartLines);
}

window.addEventListener('storage', (event) => {
  if (event.key === key) {
    lines = load();
    for (const listener of listeners) listener();
  }
});
