import { type ReactNode, useEffect, useRef } from 'react';

/** What an infinite list needs from TanStack Query's `useInfiniteQuery`. */
interface Pages {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => Promise<unknown>;
}

/**
 * The end of an infinite list: a "Load more" button anyone can reach with the
 * keyboard, and with `onScroll` the next page also loads by itself as the end
 * comes into view (`rootMargin` ahead of it).
 */
export function LoadMore({
  pages,
  onScroll = false,
  rootMargin,
  done = null,
}: {
  pages: Pages;
  onScroll?: boolean;
  rootMargin?: string;
  /** Shown once there is nothing more to load. */
  done?: ReactNode;
}) {
  const sentinel = useRef<HTMLDivElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = pages;
  useEffect(() => {
    const target = sentinel.current;
    if (!onScroll || !target || !hasNextPage) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
      },
      rootMargin ? { rootMargin } : {},
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [onScroll, rootMargin, hasNextPage, isFetchingNextPage, fetchNextPage]);
  return (
    <div ref={sentinel} className="list-end">
      {hasNextPage ? (
        <button type="button" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
          {isFetchingNextPage ? 'Loading more…' : 'Load more'}
        </button>
      ) : (
        done
      )}
    </div>
  );
}
