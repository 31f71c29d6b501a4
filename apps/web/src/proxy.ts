import { type NextRequest, NextResponse } from 'next/server';

/**
 * A Content-Security-Policy with a fresh nonce per page: Next.js puts it on its own scripts (every
 * page renders dynamically), so no other script runs, whatever a page might contain. Styles come from
 * the app's stylesheet (inline `style` attributes are allowed: they cannot run code). Other security
 * headers are set for every response in next.config.ts.
 */
export function proxy(request: NextRequest) {
  const nonce = Buffer.from(crypto.randomUUID()).toString('base64');
  const dev = process.env.NODE_ENV === 'development';
  const policy = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ''}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  const headers = new Headers(request.headers);
  headers.set('content-security-policy', policy);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set('content-security-policy', policy);
  return response;
}

export const config = {
  // Pages only: API routes get a policy that allows nothing (next.config.ts), static files need none.
  matcher: [{ source: '/((?!api|_next/static|_next/image|favicon.ico).*)' }],
};
