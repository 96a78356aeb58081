// What background work imports from the domain (`@keel/api/jobs`): plain
// functions over the database, without tRPC, so the worker shares the one
// implementation of each rule with the procedures.

export { expireOverdueOrders } from './queries/order-expiry';
export { cancelAndRestock, type Order, type OrderItem, type OrderStatus } from './queries/orders';
