using System.Text;

namespace CnnGen.Generator.Emit;

/// <summary>Writes indented C# source line by line.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public SourceWriter(int indent = 0) => _indent = indent;

    /// <summary>The current indentation level, for a writer whose text is later appended here (<see cref="Append"/>).</summary>
    public int Indent => _indent;

    /// <summary>Appends what another writer wrote, as it is (it was started at this writer's indentation).</summary>
    public SourceWriter Append(SourceWriter other)
    {
        _sb.Append(other._sb);
        return this;
    }

    public SourceWriter Line(string text = "")
    {
        if (text.Length > 0) _sb.Append(' ', _indent * 4).Append(text);
        _sb.Append('\n');
        return this;
    }

    public SourceWriter Lines(string block)
    {
        foreach (var line in block.Replace("\r\n", "\n").Split('\n')) Line(line);
        return this;
    }

    public SourceWriter Open(string header)
    {
        Line(header);
        Line("{");
        _indent++;
        return this;
    }

    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
        return this;
    }

    public override string ToString() => _sb.ToString();
}
