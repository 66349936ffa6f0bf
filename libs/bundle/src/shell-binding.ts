import type { Assignment, Word } from './shell-ast.ts';
import { bounded, expandScalar, MAX_FIELDS, MAX_VALUE, Unevaluable, type Binding, type Env } from './shell-expand.ts';
import { boundedFields, expandFields } from './shell-fields.ts';

/**
 * Binds one assignment in `env`, as bash would: `=` replaces, `+=` appends (to a scalar, or
 * to an array's first element, or adds elements). A value that cannot be evaluated statically
 * binds the name to the reason, which is raised only when the name is read.
 */
export function bindAssignment(env: Env, file: string, a: Assignment): void {
  const prev = env.get(a.name);
  let next: Binding;
  try {
    if (prev?.kind === 'poison' && a.append)
      throw new Unevaluable(`appends to ${a.name}, which cannot be evaluated statically (${prev.root})`, prev.root);
    next = a.value.kind === 'scalar' ? scalar(env, a, prev) : array(env, a, prev);
  } catch (err) {
    if (!(err instanceof Unevaluable)) throw err;
    const root = err.root ?? `${file}:${a.line}: ${a.name}: ${err.reason}`;
    next = { kind: 'poison', reason: err.reason, root, line: a.line };
  }
  env.set(a.name, next);
}

function scalar(env: Env, a: Assignment, prev: Binding | undefined): Binding {
  const value = expandScalar((a.value as { word: Word }).word, env);
  if (a.append && prev?.kind === 'array') {
    return { kind: 'array', values: [`${prev.values[0] ?? ''}${value}`, ...prev.values.slice(1)], line: a.line };
  }
  const base = a.append && prev?.kind === 'scalar' ? prev.value : '';
  return { kind: 'scalar', value: bounded(base + value), line: a.line };
}

function array(env: Env, a: Assignment, prev: Binding | undefined): Binding {
  const values: string[] = [];
  let size = 0;
  for (const word of (a.value as { words: Word[] }).words) {
    for (const field of expandFields(word, env)) {
      values.push(field);
      size += field.length + 1;
      if (values.length > MAX_FIELDS || size > MAX_VALUE) boundedFields(values);
    }
  }
  if (!a.append || prev === undefined) return { kind: 'array', values, line: a.line };
  const base = prev.kind === 'array' ? prev.values : [(prev as { value: string }).value];
  return { kind: 'array', values: boundedFields([...base, ...values]), line: a.line };
}
