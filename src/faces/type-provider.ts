import type { FastifyTypeProvider } from 'fastify';
import type { Static, TOptional, TSchema } from 'typebox';

/** The TypeScript type a schema validates; a schema made optional (an optional body) may also be absent. */
type Resolve<S> = S extends TOptional<infer Inner> ? Static<Inner> | undefined : S extends TSchema ? Static<S> : unknown;

/**
 * Fastify's type provider for TypeBox: with `app.withTypeProvider<TypeBoxProvider>()`,
 * a route's `params`, `querystring`, `body` and `headers` are typed by the
 * schemas that validate them, and what it sends by its `response` schemas, so
 * a schema and its type cannot drift apart. Written here rather than taken
 * from a package: it is these few lines.
 */
export interface TypeBoxProvider extends FastifyTypeProvider {
  validator: Resolve<this['schema']>;
  serializer: Resolve<this['schema']>;
}
