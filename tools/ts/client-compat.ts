// Wire compatibility with the agent-ops web client, decided by the
// TypeScript compiler (make typecheck, part of make check):
//
//   - the Client namespace below declares the client's shared types exactly
//     as docs/wire-types.md gives them (written by hand: it
//     is the other side of the contract, not generated);
//   - every type orgdb serves (gen/ts/types.ts, generated from the Go types)
//     must be assignable to the client's interface;
//   - every request body the client sends must be assignable to the type
//     orgdb decodes it into (the Go tests TestClient* in
//     store/wire_test.go decode the same bodies).
//
// A renamed, retyped or newly nullable field the client reads fails here,
// naming the field. Compile it alone with
//   tools/ts/node_modules/.bin/tsc --noEmit --strict tools/ts/client-compat.ts
//
// Intended differences from the facts file (each keeps the client compiling):
//   1. Times: the facts say "time"; the client parses the JSON string into a
//      Date, so on the wire it is a string. The original wrote JavaScript's
//      toISOString (always 3 fraction digits, "Z"); orgdb writes RFC 3339 in
//      UTC with "Z" and 0-9 fraction digits, so a time sent back (a keyset
//      cursor) keeps its full precision. Date parses both.
//   2. Integration: the facts give only the names of its fields; their types
//      here are those of the TEXT columns (config is the JSON text, '{}' by
//      default), not checked against the client's code.
//   3. Extra fields orgdb serves and the client ignores: OrgAPIKeyView's
//      sealedWith (the sealing key's fingerprint, never the key), ErrorBody's
//      details, ListInvitesRow's status. TypeScript allows extra fields in
//      assignments of named types, as the client does with parsed JSON.
//   4. Errors: the client's code is an open set (the facts end it with "...");
//      orgdb's Code is a closed union of its codes, assignable to it.
//   5. PUT and DELETE /api/admin/llm-keys/:provider answer { ok: true }: that
//      is the HTTP layer's constant, not a type of orgdb.

import type * as Served from '../../gen/ts/types';

/** The client's shared types, as the facts file gives them. */
export namespace Client {
  /** A time: a JSON string the client turns into a Date. */
  export type Time = string;

  export type Role = 'admin' | 'member';

  export interface User {
    id: string;
    email: string;
    name?: string;
    avatarUrl?: string;
    githubId?: string;
    githubUsername?: string;
    role: Role;
    createdAt: Time;
    updatedAt: Time;
  }

  /** GET and PUT /api/admin return it. */
  export interface OrgSettings {
    id: string;
    name: string;
    allowedEmailDomain?: string;
    /** Comma-separated: one text field in the settings page. */
    allowedEmails?: string;
    domainGatingEnabled: boolean;
    emailAllowlistEnabled: boolean;
    createdAt: Time;
    updatedAt: Time;
  }

  /** GET /api/admin/llm-keys returns an array of them. */
  export interface OrgApiKey {
    id: string;
    provider: string;
    isSet: boolean;
    setBy: string;
    createdAt: Time;
    updatedAt: Time;
  }

  /** GET /api/admin/invites returns an array; POST returns one. */
  export interface Invite {
    id: string;
    email: string;
    role: Role;
    invitedBy: string;
    acceptedAt?: Time;
    expiresAt: Time;
    createdAt: Time;
  }

  export interface Integration {
    id: string;
    userId: string;
    service: string;
    config: string;
    status: string;
    errorMessage?: string;
    lastSyncedAt?: Time;
    createdAt: Time;
    updatedAt: Time;
    scope: 'user' | 'org';
  }

  /** The body of every error response. */
  export interface ErrorBody {
    error: string;
    code: string;
  }

  /** PUT /api/admin: a partial object; "" for the domain or the list clears it. */
  export type OrgSettingsPatch = Partial<
    Pick<OrgSettings, 'name' | 'allowedEmailDomain' | 'allowedEmails' | 'domainGatingEnabled' | 'emailAllowlistEnabled'>
  >;

  /** PUT /api/admin/llm-keys/:provider. */
  export interface SetKeyBody {
    key: string;
  }

  /** POST /api/admin/invites. */
  export interface CreateInviteBody {
    email: string;
    role?: Role;
  }
}

/** Compiles only if From is assignable to To. */
type Fits<From extends To, To> = From;

/** What orgdb serves fits what the client reads. */
export type ServedFits =
  | Fits<Served.User, Client.User>
  | Fits<Served.OrgSettings, Client.OrgSettings>
  | Fits<Served.OrgAPIKeyView, Client.OrgApiKey>
  | Fits<Served.OrgAPIKeyView[], Client.OrgApiKey[]>
  | Fits<Served.Invite, Client.Invite>
  | Fits<Served.ListInvitesRow[], Client.Invite[]>
  | Fits<Served.Integration, Client.Integration>
  | Fits<Served.ErrorBody, Client.ErrorBody>;

/**
 * Every field the client declares is one orgdb declares, optional ones
 * included: assignability alone lets a served type lose an optional field
 * (a renamed column the client reads as name?: string would pass).
 */
export type ServedKeys =
  | Fits<keyof Client.User, keyof Served.User>
  | Fits<keyof Client.OrgSettings, keyof Served.OrgSettings>
  | Fits<keyof Client.OrgApiKey, keyof Served.OrgAPIKeyView>
  | Fits<keyof Client.Invite, keyof Served.Invite>
  | Fits<keyof Client.Invite, keyof Served.ListInvitesRow>
  | Fits<keyof Client.Integration, keyof Served.Integration>
  | Fits<keyof Client.ErrorBody, keyof Served.ErrorBody>;

/** What the client sends fits what orgdb decodes. */
export type SentFits =
  | Fits<Client.OrgSettingsPatch, Served.OrgSettingsPatch>
  | Fits<Client.SetKeyBody, Served.OrgAPIKeyInput>
  | Fits<Client.CreateInviteBody, Served.NewInvite>
  | Fits<keyof Client.OrgSettingsPatch, keyof Served.OrgSettingsPatch>
  | Fits<keyof Client.CreateInviteBody, keyof Served.NewInvite>;

/** The settings page's round trip: the text input's value, back as the patch. */
export function settingsPageRoundTrip(settings: Served.OrgSettings): Served.OrgSettingsPatch {
  const text: string = settings.allowedEmails ?? '';
  const patch: Client.OrgSettingsPatch = { allowedEmails: text || undefined };
  return patch;
}
