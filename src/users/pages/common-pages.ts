/** The pages any page route may answer with: over a limit, our failure, a cross-site form. */
import type { Page } from './page';

/** Over a rate limit (429): how long to wait, in whole minutes, and that nothing changed. */
export function tooManyAttemptsPage(retryAfterSeconds: number): Page {
  return {
    status: 429,
    view: 'too-many-attempts',
    title: 'Too many attempts',
    data: { minutes: Math.max(1, Math.ceil(retryAfterSeconds / 60)) },
  };
}

/** DynamoDB unreachable or busy: not the visitor's fault, and likely to pass. */
export function unavailablePage(status: number): Page {
  return { status, view: 'unavailable', title: 'Please try again' };
}

/** A form post from another site's page (SameOriginGuard): refused, nothing changed. */
export function crossSitePage(): Page {
  return { status: 403, view: 'cross-site', title: 'Not accepted' };
}
