/** The signed-in account, as `GET /api/auth/me` describes it. No token ever appears here. */
export interface CurrentUser {
  id: number;
  username: string;
  email: string;
  roles: string[];
  createdAt?: string;
}

export interface LengthRule {
  minLength: number;
  maxLength: number;
  pattern?: string;
}

/** `GET /api/auth/policy`: the server's validation rules, mirrored by the forms. */
export interface Policy {
  username: LengthRule;
  email: { maxLength: number };
  password: LengthRule;
}

export interface SessionInfo {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

export interface AdminUser {
  id: number;
  username: string;
  email: string;
  roles: string[];
  disabled: boolean;
  createdAt: string;
  lastSigninAt: string | null;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  limit: number;
}

export interface AuditEntry {
  id: number;
  at: string;
  event: string;
  outcome: 'ok' | 'failed';
  actorId: number | null;
  subjectId: number | null;
  username: string | null;
  ip: string | null;
  userAgent: string | null;
  /** `cli` for a change made with the `portcullis` command line (no actor, no address). */
  via: 'api' | 'cli';
}

export interface MessageBody {
  message: string;
  code?: string;
}

export const ROLE_USER = 'ROLE_USER';
export const ROLE_MODERATOR = 'ROLE_MODERATOR';
export const ROLE_ADMIN = 'ROLE_ADMIN';
