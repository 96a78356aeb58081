const formats = new Map<string, Intl.NumberFormat>();

/** 1234 cents in EUR → "€12.34". */
export function money(cents: number, currency: string): string {
  let format = formats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    formats.set(currency, format);
  }
  return format.format(cents / 100);
}

export function dateTime(value: Date): string {
  return value.toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' });
}
