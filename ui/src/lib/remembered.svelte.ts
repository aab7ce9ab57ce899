/**
 * The email last used to sign in or to set a password with a code: the sign-in screen starts
 * with it after a lock, a sign-out, an ended session or a password reset, so that nobody types
 * it twice. Kept in memory only, for as long as the window is open.
 */
export const remembered = $state({ email: "" });
