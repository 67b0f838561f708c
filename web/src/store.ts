// Observable state shared by the components, and a hook to read it.
import { useEffect, useState } from 'preact/hooks';

export class Store {
  private listeners = new Set<() => void>();
  /** Grows on every change; components re-render when it moves. */
  version = 0;

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected changed(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
  }
}

/** Re-renders the component whenever `store` changes; returns its version (a memo key). */
export function useStore(store: Store): number {
  const [, setVersion] = useState(store.version);
  useEffect(() => {
    setVersion(store.version);
    return store.subscribe(() => setVersion(store.version));
  }, [store]);
  return store.version;
}

/**
 * Runs `load` for a snapshot while live events keep arriving: events seen
 * during the load are applied again on top of it, in order, so the result is
 * the latest state whichever of the two a change reached first.
 */
export class Snapshotting<E> {
  private buffer: E[] | null = null;

  async load<T>(fetch: () => Promise<T>, install: (snapshot: T) => void, apply: (event: E) => void): Promise<void> {
    this.buffer = [];
    try {
      const snapshot = await fetch();
      install(snapshot);
      for (const event of this.buffer) apply(event);
    } finally {
      this.buffer = null;
    }
  }

  /** Remembers the event if a load is running (it is applied right away too). */
  note(event: E): void {
    this.buffer?.push(event);
  }
}
