import { SignInForm } from './sign-in-form.tsx';

export default function SignInPage() {
  return (
    <main className="mx-auto mt-24 max-w-sm rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
      <h1 className="text-2xl font-semibold">Sign in to Hubcap</h1>
      <p className="mt-1 text-sm text-slate-500">Event Hubs to your data lake, exactly once.</p>
      <SignInForm />
    </main>
  );
}
