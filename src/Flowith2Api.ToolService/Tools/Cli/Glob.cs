using System.Text;
using System.Text.RegularExpressions;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>
/// Shell-style globs: <c>*</c> and <c>?</c> within one path segment, <c>**</c> across segments, <c>[abc]</c>,
/// <c>[!a-z]</c> and <c>{a,b}</c>.
/// </summary>
public static class Glob
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    public static Regex ToRegex(string pattern)
    {
        var regex = new StringBuilder("^");
        var braces = 0;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*' when i + 1 < pattern.Length && pattern[i + 1] == '*':
                    while (i + 1 < pattern.Length && pattern[i + 1] == '*')
                    {
                        i++;
                    }

                    if (i + 1 < pattern.Length && pattern[i + 1] == '/')
                    {
                        i++;
                        regex.Append("(?:.*/)?");
                    }
                    else
                    {
                        regex.Append(".*");
                    }

                    break;
                case '*':
                    regex.Append("[^/]*");
                    break;
                case '?':
                    regex.Append("[^/]");
                    break;
                case '[':
                    var close = pattern.IndexOf(']', i + 2);
                    if (close < 0)
                    {
                        regex.Append(@"\[");
                        break;
                    }

                    var body = pattern[(i + 1)..close];
                    var negated = body.StartsWith('!') || body.StartsWith('^');
                    regex.Append('[').Append(negated ? "^" : "");
                    foreach (var member in negated ? body[1..] : body)
                    {
                        regex.Append(member is '\\' or '[' or ']' or '^' ? $"\\{member}" : member.ToString());
                    }

                    regex.Append(']');
                    i = close;
                    break;
                case '{':
                    braces++;
                    regex.Append("(?:");
                    break;
                case '}' when braces > 0:
                    braces--;
                    regex.Append(')');
                    break;
                case ',' when braces > 0:
                    regex.Append('|');
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        if (braces > 0)
        {
            throw new ToolArgumentException("The pattern has an unclosed '{'.");
        }

        regex.Append('$');
        return new Regex(regex.ToString(), RegexOptions.CultureInvariant, MatchTimeout);
    }
}
