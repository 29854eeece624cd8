// What a password must not be (NIST SP 800-63B 5.1.1.2): shorter than 10 characters, one found in lists
// of passwords guessers try first, a run of one character or a keyboard or alphabet sequence, or the
// username itself. No rules about digits and symbols: they make passwords harder to remember, not to guess.

// The most used passwords of the big published leaks, Chinese sites' own (woaini1314, 5201314...)
// included, with the short ones padded the ways people pad them to pass a length rule.
const COMMON = [
  'password',
  'password1',
  'password12',
  'password123',
  'password1234',
  'passw0rd',
  'p@ssw0rd',
  'p@ssword',
  'qwerty',
  'qwerty123',
  'qwertyuiop',
  'qwertyuiop123',
  'qwer1234',
  'asdfghjkl',
  'asdfghjkl;',
  'zxcvbnm',
  'zxcvbnm123',
  '1qaz2wsx',
  '1qaz2wsx3edc',
  '1q2w3e4r',
  '1q2w3e4r5t',
  '1q2w3e4r5t6y',
  'qazwsxedc',
  'qazwsxedcrfv',
  'iloveyou',
  'iloveyou1',
  'iloveyou123',
  'woaini',
  'woaini1314',
  'woaini520',
  'woaini521',
  '5201314',
  '5201314520',
  '1314520',
  '1314521',
  'admin',
  'admin123',
  'admin12345',
  'admin123456',
  'administrator',
  'welcome',
  'welcome1',
  'welcome123',
  'changeme',
  'changeme123',
  'letmein',
  'letmein123',
  'trustno1',
  'sunshine',
  'princess',
  'football',
  'baseball',
  'superman',
  'starwars',
  'dragon',
  'monkey',
  'master',
  'shadow',
  'michael',
  'computer',
  'internet',
  'abc123',
  'abc123456',
  'abcd1234',
  'abcd123456',
  'a123456',
  'a123456789',
  'a1234567890',
  'aa123456',
  'aa12345678',
  'qq123456',
  'qq123456789',
  'wang123456',
  'zhang123456',
  'li123456',
  'anju',
  'anju123456',
  'anju1234567',
  '123456a',
  '123456aa',
  '123456abc',
  '123456789a',
  '123456789abc',
  '123qwe',
  '123qweasd',
  '123qweasdzxc',
  '147258369',
  '1472583690',
  '159357',
  '159753',
  '7758521',
  '7758258',
  '123123123',
  '123123123123',
  '123321123',
  '12344321',
  '12341234',
  '1234512345',
  '1234554321',
  '11223344',
  '1122334455',
  '112233445566',
  '121212121212',
  '520520520',
];
const PADDINGS = ['', '1', '12', '123', '1234', '12345', '123456', '!', '!!', '1!', '2024', '2025', '2026'];
const COMMON_SET = new Set(COMMON.flatMap((p) => PADDINGS.map((pad) => p + pad)));

const SEQUENCES = [
  '01234567890123456789',
  'abcdefghijklmnopqrstuvwxyz',
  'qwertyuiopasdfghjklzxcvbnm',
  '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p',
];

export const MIN_PASSWORD_LENGTH = 10;

/** Why `password` is refused, or undefined when it may be used. */
export function passwordProblem(password: string, username?: string): string | undefined {
  if ([...password].length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters`;
  const lower = password.toLowerCase();
  if (COMMON_SET.has(lower)) return 'one of the passwords guessers try first';
  if (new Set(lower).size <= 2) return 'too few different characters';
  const reversed = [...lower].reverse().join('');
  if (SEQUENCES.some((s) => s.includes(lower) || s.includes(reversed)))
    return 'a keyboard or alphabet sequence';
  if (username && lower.includes(username.trim().toLowerCase())) return 'must not contain the username';
  return undefined;
}
