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
