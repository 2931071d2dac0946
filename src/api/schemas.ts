import { CONSISTENCY_LEVELS } from '../replication/engine.ts';
import { errorSchema } from './errors.ts';

export const consistencyParam = { type: 'string', enum: [...CONSISTENCY_LEVELS] } as const;

export const keyParams = {
  type: 'object',
  required: ['key'],
  properties: { key: { type: 'string', description: 'Record key, URL-encoded (UTF-8, at most 1024 bytes, no NUL).' } },
} as const;

/** Record metadata as returned in JSON bodies. */
export const metaSchema = {
  type: 'object',
  properties: {
    version: { type: 'string' },
    type: { type: 'string', enum: ['blob', 'doc'] },
    contentType: { type: 'string' },
    size: { type: 'integer' },
    checksum: { type: 'string' },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
    tombstone: { type: 'boolean' },
  },
} as const;

/** Error responses every data route may give. */
export const errorResponses = {
  400: errorSchema,
  404: errorSchema,
  412: errorSchema,
  413: errorSchema,
  500: errorSchema,
  503: errorSchema,
  504: errorSchema,
} as const;

/** `If-Match` / `If-None-Match` values: an ETag (quoted version), or `*`. */
export function parseEtag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '*') return '*';
  return v.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

export const etagOf = (version: string) => `"${version}"`;
