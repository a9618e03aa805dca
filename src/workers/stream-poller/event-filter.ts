/**
 * Lambda event filtering, the part of its pattern language that the stream settings use:
 * nested object keys, and arrays of exact values (strings, numbers, booleans, null) of which
 * the record's value must be one, or `{"exists": true|false}` (whether a leaf is there).
 * Other content filters (`prefix`, `anything-but`, `numeric`, ...) are refused when the
 * poller starts rather than silently matched otherwise than on AWS.
 *
 * As on AWS, a record passes when it matches any one of the patterns; no pattern, no filter.
 */

type ExactValue = string | number | boolean | null;
/** `{"exists": true}`: the field is there (and is a leaf); `false`: it is not there. */
interface ExistsRule {
  readonly exists: boolean;
}
type Rule = ExactValue | ExistsRule;

/** A compiled pattern: for each key, the allowed values or a nested pattern. */
interface Pattern {
  readonly [key: string]: readonly Rule[] | Pattern;
}

export type RecordFilter = (record: unknown) => boolean;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isExactValue(value: unknown): value is ExactValue {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function isExistsRule(value: unknown): value is ExistsRule {
  return (
    isPlainObject(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as { exists?: unknown }).exists === 'boolean'
  );
}

function compileObject(value: unknown, path: string): Pattern {
  if (!isPlainObject(value) || Object.keys(value).length === 0) {
    throw new Error(`Filter pattern ${path || '(root)'} must be a non-empty object.`);
  }
  const pattern: Record<string, readonly Rule[] | Pattern> = {};
  for (const [key, rule] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (Array.isArray(rule)) {
      const unsupported = rule.find((allowed) => !isExactValue(allowed) && !isExistsRule(allowed));
      if (rule.length === 0 || unsupported !== undefined) {
        throw new Error(
          `Filter pattern at ${at}: only arrays of exact values and {"exists": boolean} are supported locally, got ${JSON.stringify(rule)}.`,
        );
      }
      pattern[key] = rule as Rule[];
    } else {
      pattern[key] = compileObject(rule, at);
    }
  }
  return pattern;
}

function matches(pattern: Pattern, value: unknown): boolean {
  // A missing object matches only rules that ask for absence, as on AWS.
  const fields = isPlainObject(value) ? value : {};
  if (!isPlainObject(value) && !requiresOnlyAbsence(pattern)) return false;
  return Object.entries(pattern).every(([key, rule]) => {
    const actual = fields[key];
    if (!Array.isArray(rule)) return matches(rule as Pattern, actual);
    // A field holding a list matches when any of its elements is allowed, as on AWS.
    const candidates: unknown[] = Array.isArray(actual) ? actual : [actual];
    return rule.some((allowed) =>
      isExistsRule(allowed)
        ? (actual !== undefined && !isPlainObject(actual)) === allowed.exists
        : candidates.some((candidate) => allowed === candidate),
    );
  });
}

/** Whether every leaf rule of `pattern` is `{"exists": false}`. */
function requiresOnlyAbsence(pattern: Pattern): boolean {
  return Object.values(pattern).every((rule) =>
    Array.isArray(rule)
      ? rule.every((allowed) => isExistsRule(allowed) && !allowed.exists)
      : requiresOnlyAbsence(rule as Pattern),
  );
}

/** Compiles the settings' JSON patterns; throws on a pattern this subset cannot honour. */
export function compileRecordFilter(patterns: readonly string[]): RecordFilter {
  const compiled = patterns.map((text, index) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`Filter pattern ${index} is not JSON: ${text}`);
    }
    return compileObject(parsed, '');
  });
  if (compiled.length === 0) return () => true;
  return (record) => compiled.some((pattern) => matches(pattern, record));
}
