/**
 * The language of an answer's words: `?lang=en|zh-CN`, else `Accept-Language`, else English
 * (server/tiering/explain.ts). Codes and numbers are the same in every language; only `reasons`
 * (and other text made from codes) follows it.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { pickLang, REASON_LANGS, type ReasonLang } from '../tiering/explain.js';
import { HttpError } from './guards.js';

/** the `lang` query parameter as routes declare it (checked by `answerLang`, which names it when bad) */
export const LangQuery = Type.Optional(Type.String({ maxLength: 35, description: '`en` or `zh-CN` (also `zh`, `zh-Hans`, `en-US`…); without it, `Accept-Language`; default `en`' }));

/** a reason as data: its code and parameters; `reasons` is the same list in words */
export const ExplainSchema = Type.Array(
  Type.Object({ code: Type.String(), params: Type.Record(Type.String(), Type.Unknown()) }),
  { description: 'Each reason as a code and its parameters (docs/api.md "Reasons"); `reasons` holds the same list in the language asked' },
);

export function answerLang(req: FastifyRequest, reply: FastifyReply): ReasonLang {
  const q = (req.query as { lang?: unknown } | undefined)?.lang;
  const header = req.headers['accept-language'];
  const lang = pickLang(typeof q === 'string' ? q : undefined, typeof header === 'string' ? header : undefined);
  if (!lang) throw new HttpError(400, 'bad_request', `querystring.lang must be one of ${REASON_LANGS.join(', ')}`);
  const vary = reply.getHeader('vary');
  const list = (Array.isArray(vary) ? vary.join(', ') : vary ? String(vary) : '').split(',').map((x) => x.trim()).filter(Boolean);
  if (!list.some((x) => x.toLowerCase() === 'accept-language')) list.push('Accept-Language');
  reply.header('content-language', lang).header('vary', list.join(', '));
  return lang;
}
