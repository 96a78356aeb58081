import type { RouterOutputs } from '@keel/client';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../../trpc';
import { useToken } from './session';

export type Me = RouterOutputs['auth']['me'];

/** The signed-in user (null when signed out), and whether that is still being learned. */
export function useMe(): { me: Me | null; pending: boolean } {
  const trpc = useTRPC();
  const token = useToken();
  const query = useQuery({ ...trpc.auth.me.queryOptions(), enabled: token !== null });
  if (token === null) return { me: null, pending: false };
  return { me: query.data ?? null, pending: query.isPending };
}
