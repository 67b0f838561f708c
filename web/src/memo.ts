// Skips re-rendering a component whose props are shallowly equal (preact/compat's
// memo without the rest of compat).
import { h, type FunctionComponent } from 'preact';

function differs(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  for (const key in a) if (key !== 'children' && !(key in b)) return true;
  for (const key in b) if (key !== 'children' && a[key] !== b[key]) return true;
  return false;
}

export function memo<P extends object>(component: FunctionComponent<P>): FunctionComponent<P> {
  function Memo(this: any, props: P) {
    this.shouldComponentUpdate = function (this: any, next: P) {
      return differs(this.props, next as Record<string, unknown>);
    };
    return h(component, props);
  }
  Memo.displayName = `Memo(${component.displayName || component.name})`;
  return Memo as FunctionComponent<P>;
}
