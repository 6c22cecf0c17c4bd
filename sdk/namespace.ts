/**
 * Namespaces: `cache.namespace(name)` is a view of the cache whose keys and
 * tags are its own. A key `k` in namespace path `a/b` is stored as
 * `\0ns\0a\0b\0k` (names may not contain `\0`, so no two paths, and no key
 * a caller would write, share a form); a tag likewise. Every value set
 * through a view is also tagged with the view's own clear tag and those of
 * the namespaces it is nested in, so `view.clear()` is one tag
 * invalidation: it removes the namespace's entries (and its children's)
 * from L2 and, through the invalidation bus, from every instance's L1.
 */
import type { LayeredCache } from './cache.js';
import type { CacheCallOptions } from './call-context.js';
import type { ComputeFn } from './compute-context.js';
import type { ContentType } from './content-types.js';
import { InvalidKeyError } from './errors.js';
import type { FetchResult } from './fetch-result.js';

const MARK = '\0ns\0';

export class Namespace {
  /** The tag every value of this namespace (or of one nested in it) carries. */
  readonly clearTag: string;
  /** This namespace's clear tag and its ancestors'. */
  private readonly clearTags: readonly string[];
  private readonly prefix: string;

  constructor(
    readonly path: readonly string[],
    parent?: Namespace,
  ) {
    this.clearTag = `${MARK}${path.join('\0')}`;
    this.prefix = `${this.clearTag}\0`;
    this.clearTags = parent ? [...parent.clearTags, this.clearTag] : [this.clearTag];
  }

  /** A nested namespace. */
  child(name: string): Namespace {
    return new Namespace([...this.path, checkName(name)], this);
  }

  static root(name: string): Namespace {
    return new Namespace([checkName(name)]);
  }

  /** The stored form of a caller's key; throws InvalidKeyError for a key that is not a non-empty string. */
  key(key: string): string {
    if (typeof key !== 'string' || key === '') throw new InvalidKeyError('a key must be a non-empty string');
    return this.prefix + key;
  }

  tag(tag: string): string {
    if (typeof tag !== 'string' || tag === '') throw new InvalidKeyError('a tag must be a non-empty string');
    return this.prefix + tag;
  }

  /** The tags a value set through this view carries: the caller's, scoped, and the clear tags. */
  tagsFor(tags: readonly string[] | undefined): readonly string[] {
    return tags?.length ? [...tags.map((t) => this.prefix + t), ...this.clearTags] : this.clearTags;
  }
}

function checkName(name: string): string {
  if (typeof name !== 'string' || name === '' || name.includes('\0')) throw new InvalidKeyError('a namespace name must be a non-empty string without NUL');
  return name;
}

/** A namespace view: the cache's data calls, with keys and tags scoped to the namespace. */
export interface CacheNamespace {
  /** The namespace path, names joined by '/'. */
  readonly name: string;
  get<T = unknown>(key: string, contentType: ContentType, options?: CacheCallOptions): Promise<T | undefined>;
  peek<T = unknown>(key: string, contentType: ContentType): T | undefined;
  set(key: string, value: unknown, contentType: ContentType, options?: CacheCallOptions): Promise<void>;
  delete(key: string, contentType: ContentType, options?: CacheCallOptions): Promise<void>;
  getWithFallback<T>(key: string, contentType: ContentType, computeFn: ComputeFn<T>, options?: CacheCallOptions): Promise<T>;
  fetch<T>(key: string, contentType: ContentType, computeFn: ComputeFn<T>, options?: CacheCallOptions): Promise<FetchResult<T>>;
  /** Drops every value of this namespace set with this tag, in every instance. */
  invalidateTag(tag: string): Promise<number>;
  /** A namespace nested in this one (cleared with it). */
  namespace(name: string): CacheNamespace;
  /** Removes every entry of this namespace (and of those nested in it) from L2 and from every instance's L1; resolves to how many L2 keys. */
  clear(): Promise<number>;
}

export class NamespaceView implements CacheNamespace {
  readonly name: string;

  constructor(
    private readonly cache: LayeredCache,
    private readonly ns: Namespace,
  ) {
    this.name = ns.path.join('/');
  }

  get<T = unknown>(key: string, contentType: ContentType, options?: CacheCallOptions): Promise<T | undefined> {
    return this.scoped(key, (k) => this.cache.get<T>(k, contentType, options));
  }

  peek<T = unknown>(key: string, contentType: ContentType): T | undefined {
    return this.cache.peek<T>(this.ns.key(key), contentType);
  }

  set(key: string, value: unknown, contentType: ContentType, options?: CacheCallOptions): Promise<void> {
    return this.scoped(key, (k) => this.cache.set(k, value, contentType, options, this.ns));
  }

  delete(key: string, contentType: ContentType, options?: CacheCallOptions): Promise<void> {
    return this.scoped(key, (k) => this.cache.delete(k, contentType, options));
  }

  getWithFallback<T>(key: string, contentType: ContentType, computeFn: ComputeFn<T>, options?: CacheCallOptions): Promise<T> {
    return this.scoped(key, (k) => this.cache.getWithFallback(k, contentType, computeFn, options, this.ns));
  }

  fetch<T>(key: string, contentType: ContentType, computeFn: ComputeFn<T>, options?: CacheCallOptions): Promise<FetchResult<T>> {
    return this.scoped(key, (k) => this.cache.fetch(k, contentType, computeFn, options, this.ns));
  }

  invalidateTag(tag: string): Promise<number> {
    try {
      return this.cache.invalidateTag(this.ns.tag(tag));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  namespace(name: string): CacheNamespace {
    return new NamespaceView(this.cache, this.ns.child(name));
  }

  clear(): Promise<number> {
    return this.cache.invalidateTag(this.ns.clearTag);
  }

  /** Runs `call` with the scoped key; a bad key is a rejection, as from the cache itself. */
  private scoped<R>(key: string, call: (scopedKey: string) => Promise<R>): Promise<R> {
    let scopedKey: string;
    try {
      scopedKey = this.ns.key(key);
    } catch (err) {
      return Promise.reject(err);
    }
    return call(scopedKey);
  }
}
