/** What the register page hands the login page after a sign-up. */

/** The login page's `?reason=` after a sign-up. */
export const REGISTERED_REASON = 'registered';

/** The navigation state of that visit: the new account's username, to fill in. */
export interface LoginState {
  username?: string;
}
