/**
 * An options object without its `undefined` fields, so that spreading it over
 * defaults overrides only what the caller actually set (`{ port: undefined }`
 * means "not given", not "no port").
 */
export function definedFields<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
