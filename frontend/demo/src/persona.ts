/** How each persona looks: an accent colour and avatar initials (unknown roles get a stable colour). */

const ACCENTS: Record<string, string> = {
  "cooking-guide": "#c2410c",
  sommelier: "#9f1239",
  concierge: "#0f766e",
};

export function accentFor(role: string | undefined): string {
  if (role === undefined) return "#57534e";
  const known = ACCENTS[role];
  if (known !== undefined) return known;
  let hash = 0;
  for (const char of role) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360} 55% 38%)`;
}

export function initials(title: string): string {
  const words = title.split(/[\s_-]+/).filter(Boolean);
  const [first = "", second = ""] = words;
  if (!first) return "?";
  if (!second) return first.charAt(0).toUpperCase() + first.charAt(1).toLowerCase();
  return (first.charAt(0) + second.charAt(0)).toUpperCase();
}
