using System.Buffers;

namespace Flowith2Api.FakeFlowith;

/// <summary>Byte-level writers for the Flowith wire format (JSON strings escaped like <c>JSON.stringify</c>).</summary>
internal static class FlowithWire
{
    private const int SliceChars = 4096;
    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    public static ReadOnlySpan<byte> FinalEventOpen => "{\"tag\":\"final\",\"content\":"u8;

    public static ReadOnlySpan<byte> SearchingJson => "{\"tag\":\"searching\",\"content\":\"Searching...\"}"u8;

    public static ReadOnlySpan<byte> SeedsJson =>
        "{\"tag\":\"seeds\",\"content\":[{\"id\":\"seed-fake-1\",\"tokens\":42,\"content\":\"A fake knowledge-base passage.\",\"order\":0,\"source_id\":\"source-fake-1\",\"source_title\":\"Fake knowledge base\",\"nip\":0}]}"u8;

    public static ReadOnlySpan<byte> BareDone => "[DONE]"u8;

    /// <summary>Writes <paramref name="value"/> as a quoted JSON string: raw UTF-8, escaping only quotes,
    /// backslashes, control characters and lone surrogates.</summary>
    public static void WriteJsonString(IBufferWriter<byte> writer, ReadOnlySpan<char> value)
    {
        writer.Write("\""u8);
        while (!value.IsEmpty)
        {
            var take = Math.Min(SliceChars, value.Length);
            if (take < value.Length && char.IsHighSurrogate(value[take - 1]))
                take++;
            WriteEscaped(writer, value[..take]);
            value = value[take..];
        }

        writer.Write("\""u8);
    }

    /// <summary>The bytes of a JSON object <c>{"error":"message","code":status}</c>.</summary>
    public static byte[] ErrorJson(string message, int status)
    {
        var buffer = new ArrayBufferWriter<byte>(message.Length + 32);
        buffer.Write("{\"error\":"u8);
        WriteJsonString(buffer, message);
        buffer.Write(",\"code\":"u8);
        WriteInt(buffer, status);
        buffer.Write("}"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The bytes of <c>{"models":[…],"count":N}</c>.</summary>
    public static byte[] ModelsJson(IReadOnlyList<string> models)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write("{\"models\":["u8);
        for (var i = 0; i < models.Count; i++)
        {
            if (i > 0)
                buffer.Write(","u8);
            WriteJsonString(buffer, models[i]);
        }

        buffer.Write("],\"count\":"u8);
        WriteInt(buffer, models.Count);
        buffer.Write("}"u8);
        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteInt(IBufferWriter<byte> writer, int value)
    {
        var span = writer.GetSpan(11);
        value.TryFormat(span, out var written, default, System.Globalization.CultureInfo.InvariantCulture);
        writer.Advance(written);
    }

    private static void WriteEscaped(IBufferWriter<byte> writer, ReadOnlySpan<char> value)
    {
        var dst = writer.GetSpan(value.Length * 6);
        var n = 0;
        for (var i = 0; i < value.Length; i++)
        {
            int c = value[i];
            if (c < 0x80)
            {
                if (c >= 0x20 && c != '"' && c != '\\')
                {
                    dst[n++] = (byte)c;
                    continue;
                }

                dst[n++] = (byte)'\\';
                switch (c)
                {
                    case '"': dst[n++] = (byte)'"'; break;
                    case '\\': dst[n++] = (byte)'\\'; break;
                    case '\n': dst[n++] = (byte)'n'; break;
                    case '\r': dst[n++] = (byte)'r'; break;
                    case '\t': dst[n++] = (byte)'t'; break;
                    case '\b': dst[n++] = (byte)'b'; break;
                    case '\f': dst[n++] = (byte)'f'; break;
                    default: n = WriteUnicodeEscape(dst, n, c); break;
                }
            }
            else if (c < 0x800)
            {
                dst[n++] = (byte)(0xC0 | (c >> 6));
                dst[n++] = (byte)(0x80 | (c & 0x3F));
            }
            else if (char.IsHighSurrogate((char)c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                var cp = char.ConvertToUtf32((char)c, value[++i]);
                dst[n++] = (byte)(0xF0 | (cp >> 18));
                dst[n++] = (byte)(0x80 | ((cp >> 12) & 0x3F));
                dst[n++] = (byte)(0x80 | ((cp >> 6) & 0x3F));
                dst[n++] = (byte)(0x80 | (cp & 0x3F));
            }
            else if (char.IsSurrogate((char)c))
            {
                dst[n++] = (byte)'\\';
                n = WriteUnicodeEscape(dst, n, c);
            }
            else
            {
                dst[n++] = (byte)(0xE0 | (c >> 12));
                dst[n++] = (byte)(0x80 | ((c >> 6) & 0x3F));
                dst[n++] = (byte)(0x80 | (c & 0x3F));
            }
        }

        writer.Advance(n);
    }

    private static int WriteUnicodeEscape(Span<byte> dst, int n, int c)
    {
        dst[n++] = (byte)'u';
        dst[n++] = Hex[(c >> 12) & 0xF];
        dst[n++] = Hex[(c >> 8) & 0xF];
        dst[n++] = Hex[(c >> 4) & 0xF];
        dst[n++] = Hex[c & 0xF];
        return n;
    }
}
