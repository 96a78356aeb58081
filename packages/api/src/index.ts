// The public surface of @keel/api.
export { type Context, createInnerContext } from './context';
export { type AppRouter, appRouter } from './root';
export { createCallerFactory } from './trpc';
