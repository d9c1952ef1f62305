import { useRef, type ReactNode } from 'react';

const KEYWORDS = new Set(
  'if then else elif fi for while until do done case esac in function return exit local export readonly set unset echo printf cd test true false def import from as print'.split(
    ' ',
  ),
);
/** One token a line: comment, string, variable, keyword or plain text. */
const TOKEN = /(#.*$)|('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?)|(\$\{[^}]*\}?|\$\(\(?|\$[A-Za-z_0-9@#?*!$-]?)|([A-Za-z_][A-Za-z0-9_-]*)|([^#'"$A-Za-z_]+)/gm;

/** Shell text as spans for the highlight layer (the textarea above it holds the real text). */
export function highlight(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let i = 0;
  for (const m of text.matchAll(TOKEN)) {
    const [all, comment, string, variable, word] = m;
    const cls = comment ? 'tok-comment' : string ? 'tok-string' : variable ? 'tok-var' : word && KEYWORDS.has(word) ? 'tok-keyword' : null;
    out.push(
      cls ? (
        <span key={i++} className={cls}>
          {all}
        </span>
      ) : (
        all
      ),
    );
  }
  return out;
}

/**
 * A code editor: a plain textarea (so typing, selection, undo and screen
 * readers work as usual) over a highlighted copy of its text, scrolled
 * together. Tab inserts two spaces; Escape then Tab leaves the field.
 */
export function CodeEditor(props: { id: string; value: string; onChange: (v: string) => void; readOnly?: boolean; rows?: number; label: string }) {
  const layer = useRef<HTMLPreElement>(null);
  const escaped = useRef(false);
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <div className="editor" style={{ height: `${(props.rows ?? 10) * 1.5 + 1}em` }}>
        <pre ref={layer} aria-hidden="true" className="editor-layer">
          {highlight(props.value)}
          {'\n'}
        </pre>
        <textarea
          id={props.id}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          value={props.value}
          readOnly={props.readOnly}
          aria-describedby={`${props.id}-hint`}
          onChange={(e) => props.onChange(e.target.value)}
          onScroll={(e) => {
            if (!layer.current) return;
            layer.current.scrollTop = e.currentTarget.scrollTop;
            layer.current.scrollLeft = e.currentTarget.scrollLeft;
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape') escaped.current = true;
            else if (e.key === 'Tab' && !e.shiftKey && !escaped.current && !props.readOnly) {
              e.preventDefault();
              const t = e.currentTarget;
              const { selectionStart: a, selectionEnd: b } = t;
              props.onChange(`${t.value.slice(0, a)}  ${t.value.slice(b)}`);
              requestAnimationFrame(() => t.setSelectionRange(a + 2, a + 2));
            } else escaped.current = false;
          }}
        />
      </div>
      <span id={`${props.id}-hint`} className="hint">
        Tab indents; press Escape, then Tab, to move on.
      </span>
    </div>
  );
}
