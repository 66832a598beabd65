/** Languages Beep writes mail in (AUTH-9). */
export const LANGUAGES = ["en", "fr"] as const;

/** One of {@link LANGUAGES}. */
export type Language = (typeof LANGUAGES)[number];

/** True for a supported language. */
export function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}

/** Subject and bodies of a rendered mail. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** Every mail Beep sends, with the values each needs. */
export interface MailTemplates {
  /** Sent at sign-up and on resend: a code and a link that prove the address. */
  verifyEmail: { name: string; code: string; link: string; minutes: number };
  /** Passwordless sign-in (AUTH-7). */
  signInCode: { name: string; code: string; minutes: number };
  /** Forgot password (AUTH-12): a code and a link that allow setting a new password. */
  passwordReset: { name: string; code: string; link: string; minutes: number };
  /** Email change (AUTH-8): the code that proves the new address, sent to it. */
  emailChangeCode: { name: string; code: string; minutes: number };
  /** Email change (AUTH-8): the notice sent to the old address; holds no code. */
  emailChangeNotice: { name: string };
}

type Texts = { [K in keyof MailTemplates]: (v: MailTemplates[K]) => { subject: string; lines: string[] } };

const TEXTS: Record<Language, Texts> = {
  en: {
    verifyEmail: (v) => ({
      subject: `Your Beep verification code: ${v.code}`,
      lines: [
        `Hello ${v.name},`,
        `Your code to verify your e-mail address is ${v.code}.`,
        `Or open this link: ${v.link}`,
        `It expires in ${v.minutes} minutes. If you did not sign up for Beep, ignore this mail.`,
      ],
    }),
    signInCode: (v) => ({
      subject: `Your Beep sign-in code: ${v.code}`,
      lines: [
        `Hello ${v.name},`,
        `Your sign-in code is ${v.code}.`,
        `It expires in ${v.minutes} minutes and works once. If you did not ask for it, ignore this mail; nobody can sign in without it.`,
      ],
    }),
    passwordReset: (v) => ({
      subject: `Reset your Beep password: ${v.code}`,
      lines: [
        `Hello ${v.name},`,
        `Your code to reset your password is ${v.code}.`,
        `Or open this link: ${v.link}`,
        `It expires in ${v.minutes} minutes and works once. Resetting signs you out everywhere. If you did not ask for it, ignore this mail; your password stays the same.`,
      ],
    }),
    emailChangeCode: (v) => ({
      subject: `Confirm your new Beep e-mail address: ${v.code}`,
      lines: [
        `Hello ${v.name},`,
        `Your code to make this address your Beep e-mail is ${v.code}.`,
        `It expires in ${v.minutes} minutes. If you did not ask for it, ignore this mail.`,
      ],
    }),
    emailChangeNotice: (v) => ({
      subject: "Your Beep e-mail address is being changed",
      lines: [
        `Hello ${v.name},`,
        "Someone signed in to your Beep account asked to change its e-mail address. This address stays in use until the new one is confirmed.",
        "If it was not you, change your password now and sign out your other sessions.",
      ],
    }),
  },
  fr: {
    verifyEmail: (v) => ({
      subject: `Votre code de vérification Beep : ${v.code}`,
      lines: [
        `Bonjour ${v.name},`,
        `Votre code pour vérifier votre adresse e-mail est ${v.code}.`,
        `Ou ouvrez ce lien : ${v.link}`,
        `Il expire dans ${v.minutes} minutes. Si vous ne vous êtes pas inscrit à Beep, ignorez ce message.`,
      ],
    }),
    signInCode: (v) => ({
      subject: `Votre code de connexion Beep : ${v.code}`,
      lines: [
        `Bonjour ${v.name},`,
        `Votre code de connexion est ${v.code}.`,
        `Il expire dans ${v.minutes} minutes et ne sert qu'une fois. Si vous ne l'avez pas demandé, ignorez ce message : personne ne peut se connecter sans lui.`,
      ],
    }),
    passwordReset: (v) => ({
      subject: `Réinitialisez votre mot de passe Beep : ${v.code}`,
      lines: [
        `Bonjour ${v.name},`,
        `Votre code pour réinitialiser votre mot de passe est ${v.code}.`,
        `Ou ouvrez ce lien : ${v.link}`,
        `Il expire dans ${v.minutes} minutes et ne sert qu'une fois. La réinitialisation vous déconnecte partout. Si vous ne l'avez pas demandée, ignorez ce message : votre mot de passe ne change pas.`,
      ],
    }),
    emailChangeCode: (v) => ({
      subject: `Confirmez votre nouvelle adresse e-mail Beep : ${v.code}`,
      lines: [
        `Bonjour ${v.name},`,
        `Votre code pour faire de cette adresse votre e-mail Beep est ${v.code}.`,
        `Il expire dans ${v.minutes} minutes. Si vous ne l'avez pas demandé, ignorez ce message.`,
      ],
    }),
    emailChangeNotice: (v) => ({
      subject: "L'adresse e-mail de votre compte Beep est en cours de modification",
      lines: [
        `Bonjour ${v.name},`,
        "Une personne connectée à votre compte Beep a demandé à changer son adresse e-mail. Cette adresse reste utilisée tant que la nouvelle n'est pas confirmée.",
        "Si ce n'était pas vous, changez votre mot de passe maintenant et déconnectez vos autres sessions.",
      ],
    }),
  },
};

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Renders one mail in the language; values are escaped in the HTML part. */
export function renderMail<K extends keyof MailTemplates>(
  kind: K,
  language: Language,
  values: MailTemplates[K],
): RenderedMail {
  const { subject, lines } = TEXTS[language][kind](values);
  return {
    subject,
    text: `${lines.join("\n\n")}\n`,
    html: `<!doctype html><html lang="${language}"><body>${lines
      .map((line) => `<p>${escapeHtml(line)}</p>`)
      .join("")}</body></html>`,
  };
}
