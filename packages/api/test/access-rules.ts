// Who may call what: the one table both authorization matrices check, the
// one through createCaller (this package) and the one over HTTP
// (apps/server/test/authorization-http.test.ts), so they cannot drift apart.

export type Who = 'anonymous' | 'customerA' | 'customerB' | 'admin';
export type Outcome =
  | 'OK'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'CONFLICT'
  | 'TOO_MANY_REQUESTS';

export const whos: readonly Who[] = ['anonymous', 'customerA', 'customerB', 'admin'];

const everyone = { anonymous: 'OK', customerA: 'OK', customerB: 'OK', admin: 'OK' } as const;
const signedIn = {
  anonymous: 'UNAUTHORIZED',
  customerA: 'OK',
  customerB: 'OK',
  admin: 'OK',
} as const;
const adminOnly = {
  anonymous: 'UNAUTHORIZED',
  customerA: 'FORBIDDEN',
  customerB: 'FORBIDDEN',
  admin: 'OK',
} as const;

/** Expected outcome per procedure and caller; order ids are customer A's. */
export const expectedAccess = {
  'auth.register': everyone,
  'auth.login': everyone,
  'auth.logout': signedIn,
  'auth.me': signedIn,
  'health.check': everyone,
  'products.list': everyone,
  'products.byId': everyone,
  'products.bySku': everyone,
  'products.create': adminOnly,
  'products.update': adminOnly,
  'products.delete': adminOnly,
  'orders.place': signedIn,
  'orders.list': signedIn,
  // Customer A's order: B must not learn that it exists.
  'orders.byId': {
    anonymous: 'UNAUTHORIZED',
    customerA: 'OK',
    customerB: 'NOT_FOUND',
    admin: 'OK',
  },
  // A fresh pending order of customer A each time. orders.cancel is scoped to the
  // caller's own orders for everyone, admins included (they use orders.updateStatus).
  'orders.cancel': {
    anonymous: 'UNAUTHORIZED',
    customerA: 'OK',
    customerB: 'NOT_FOUND',
    admin: 'NOT_FOUND',
  },
  'orders.updateStatus': adminOnly,
  'users.list': adminOnly,
  'users.updateMe': signedIn,
  'users.deleteMe': signedIn,
} satisfies Record<string, Record<Who, Outcome>>;
