package io.stepcast.kafka;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.PushbackReader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.regex.Pattern;

/**
 * A small CSV reader for the RFC 4180 basics: a header row, comma-separated fields, fields in
 * double quotes that may hold commas, line breaks and doubled quotes ({@code ""}), and LF or CRLF
 * line ends. Blank lines are skipped and a leading UTF-8 byte order mark is ignored.
 *
 * <p>The replay tool and the trainer both read the sample data with it, so a file parses the same
 * way whether its rows go to Kafka or into a training set. Every record must have as many fields as
 * the header. Malformed input fails with a {@link FormatException} naming the source, the row (the
 * line on which the record starts; the header is row 1) and the 1-based column, because that is
 * what a person needs to fix the file.
 */
public final class Csv {

  /** JSON-like decimal syntax; excludes what {@link Double#parseDouble} also takes (0x1p3, 1d). */
  private static final Pattern DECIMAL =
      Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");

  private final String source;
  private final List<String> header;
  private final Map<String, Integer> columns;
  private final List<Row> rows;

  private Csv(String source, List<String> header, Map<String, Integer> columns, List<Row> rows) {
    this.source = source;
    this.header = header;
    this.columns = columns;
    this.rows = rows;
  }

  /** Reads a whole UTF-8 file. */
  public static Csv read(Path path) throws IOException {
    try (Csv.Reader reader = open(path)) {
      return readAll(reader);
    }
  }

  /** Parses CSV text; {@code source} names it in error messages. */
  public static Csv parse(String source, String text) {
    try (Csv.Reader reader = reader(source, new StringReader(text))) {
      return readAll(reader);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Opens a UTF-8 file for reading record by record (for files too large to hold). */
  public static Csv.Reader open(Path path) throws IOException {
    BufferedReader in = Files.newBufferedReader(path, StandardCharsets.UTF_8);
    try {
      return new Csv.Reader(path.toString(), in);
    } catch (IOException | RuntimeException e) {
      in.close();
      throw e;
    }
  }

  /** Reads CSV from {@code in} record by record; the returned reader closes {@code in}. */
  public static Csv.Reader reader(String source, java.io.Reader in) throws IOException {
    return new Csv.Reader(source, in);
  }

  /**
   * The value of {@code cell} as a finite number, if it is written as a decimal number (optional
   * sign, digits, optional fraction and exponent; surrounding spaces allowed). Text such as {@code
   * NaN}, {@code Infinity} or {@code 0x10} is not a number here.
   */
  public static OptionalDouble parseNumber(String cell) {
    if (cell == null) {
      return OptionalDouble.empty();
    }
    String s = cell.strip();
    if (s.isEmpty() || !DECIMAL.matcher(s).matches()) {
      return OptionalDouble.empty();
    }
    double value = Double.parseDouble(s);
    return Double.isFinite(value) ? OptionalDouble.of(value) : OptionalDouble.empty();
  }

  private static Csv readAll(Csv.Reader reader) throws IOException {
    List<Row> rows = new ArrayList<>();
    for (Row row = reader.next(); row != null; row = reader.next()) {
      rows.add(row);
    }
    return new Csv(
        reader.source, reader.header, reader.columns, Collections.unmodifiableList(rows));
  }

  /** Where the data came from (a path or a name given to {@link #parse}). */
  public String source() {
    return source;
  }

  /** The column names, in file order. */
  public List<String> header() {
    return header;
  }

  /** The data rows (without the header), in file order. */
  public List<Row> rows() {
    return rows;
  }

  /** The 0-based index of a column. */
  public int columnIndex(String name) {
    return index(source, columns, name);
  }

  /** Whether the header has a column of this name. */
  public boolean hasColumn(String name) {
    return columns.containsKey(name);
  }

  private static int index(String source, Map<String, Integer> columns, String name) {
    Integer i = columns.get(name);
    if (i == null) {
      throw new IllegalArgumentException(
          source + ": no column '" + name + "'; the header has " + columns.keySet());
    }
    return i;
  }

  /** One data record: its cells by column, with its position for error messages. */
  public static final class Row {
    private final String source;
    private final int rowNumber;
    private final List<String> header;
    private final Map<String, Integer> columns;
    private final List<String> cells;

    private Row(
        String source,
        int rowNumber,
        List<String> header,
        Map<String, Integer> columns,
        List<String> cells) {
      this.source = source;
      this.rowNumber = rowNumber;
      this.header = header;
      this.columns = columns;
      this.cells = cells;
    }

    /** The line on which this record starts (the header is row 1). */
    public int rowNumber() {
      return rowNumber;
    }

    /** The column names this row's cells belong to. */
    public List<String> header() {
      return header;
    }

    /** Number of cells (always the header's size). */
    public int size() {
      return cells.size();
    }

    /** The raw text of the cell at a 0-based index ({@code ""} when empty). */
    public String get(int index) {
      return cells.get(index);
    }

    /** The raw text of a named cell ({@code ""} when empty). */
    public String get(String column) {
      return cells.get(index(source, columns, column));
    }

    /** Whether the named cell is empty or only spaces. */
    public boolean isBlank(String column) {
      return get(column).isBlank();
    }

    /**
     * The named cell as a finite number.
     *
     * @throws FormatException naming the row and column when the cell is empty or not a number
     */
    public double getDouble(String column) {
      int i = index(source, columns, column);
      String cell = cells.get(i);
      OptionalDouble value = parseNumber(cell);
      if (value.isEmpty()) {
        throw error(
            i, cell.isBlank() ? "is empty, expected a number" : "'" + cell + "' is not a number");
      }
      return value.getAsDouble();
    }

    /** The cells by column name, in header order. */
    public Map<String, String> asMap() {
      Map<String, String> map = new LinkedHashMap<>();
      for (int i = 0; i < cells.size(); i++) {
        map.put(header.get(i), cells.get(i));
      }
      return map;
    }

    /** An error about the cell at a 0-based index of this row. */
    public FormatException error(int index, String message) {
      return new FormatException(
          source, rowNumber, index + 1, "(" + header.get(index) + ") " + message);
    }

    @Override
    public String toString() {
      return "row " + rowNumber + " " + cells;
    }
  }

  /**
   * Reads a CSV source record by record. The header is read on construction; {@link #next()}
   * returns null at the end.
   */
  public static final class Reader implements Closeable {
    private final String source;
    private final PushbackReader in;
    private final List<String> header;
    private final Map<String, Integer> columns;
    private int line = 1;
    private int recordRow;
    private final StringBuilder field = new StringBuilder();

    private Reader(String source, java.io.Reader reader) throws IOException {
      this.source = Objects.requireNonNull(source, "source");
      this.in = new PushbackReader(reader, 1);
      int first = in.read();
      if (first != '\uFEFF' && first != -1) {
        in.unread(first);
      }
      List<String> names = readRecord();
      if (names == null) {
        throw new FormatException(source, 1, 1, "no header row (the input is empty)");
      }
      Map<String, Integer> byName = new LinkedHashMap<>();
      for (int i = 0; i < names.size(); i++) {
        String name = names.get(i).strip();
        if (name.isEmpty()) {
          throw new FormatException(source, recordRow, i + 1, "empty column name in the header");
        }
        Integer previous = byName.putIfAbsent(name, i);
        if (previous != null) {
          throw new FormatException(
              source,
              recordRow,
              i + 1,
              "duplicate column name '" + name + "' (also column " + (previous + 1) + ")");
        }
        names.set(i, name);
      }
      this.header = Collections.unmodifiableList(names);
      this.columns = Collections.unmodifiableMap(byName);
    }

    /** The column names, in file order (names are stripped of surrounding spaces). */
    public List<String> header() {
      return header;
    }

    /** The next data row, or null at the end of the input. */
    public Row next() throws IOException {
      List<String> cells = readRecord();
      if (cells == null) {
        return null;
      }
      if (cells.size() > header.size()) {
        throw new FormatException(
            source,
            recordRow,
            header.size() + 1,
            "extra field: the row has " + cells.size() + " fields, the header " + header.size());
      }
      if (cells.size() < header.size()) {
        throw new FormatException(
            source,
            recordRow,
            cells.size() + 1,
            "missing field '"
                + header.get(cells.size())
                + "': the row has "
                + cells.size()
                + " fields, the header "
                + header.size()
                + " (write an empty field as nothing between two commas)");
      }
      return new Row(source, recordRow, header, columns, Collections.unmodifiableList(cells));
    }

    @Override
    public void close() throws IOException {
      in.close();
    }

    /** Reads one record's fields, skipping blank lines; null at the end of the input. */
    private List<String> readRecord() throws IOException {
      int c = in.read();
      while (c == '\n' || c == '\r') {
        endOfLine(c);
        c = in.read();
      }
      if (c == -1) {
        return null;
      }
      recordRow = line;
      List<String> fields = new ArrayList<>();
      while (true) {
        field.setLength(0);
        if (c == '"') {
          c = readQuoted(fields.size() + 1);
        } else {
          while (c != ',' && c != '\n' && c != '\r' && c != -1) {
            field.append((char) c);
            c = in.read();
          }
        }
        fields.add(field.toString());
        if (c == ',') {
          c = in.read();
          continue;
        }
        if (c != -1) {
          endOfLine(c);
        }
        return fields;
      }
    }

    /** Reads a quoted field into {@link #field}; returns the character after the closing quote. */
    private int readQuoted(int column) throws IOException {
      int openedOn = line;
      while (true) {
        int c = in.read();
        if (c == -1) {
          throw new FormatException(
              source,
              recordRow,
              column,
              "unterminated quoted field (the quote opens on line " + openedOn + ")");
        }
        if (c == '"') {
          int next = in.read();
          if (next == '"') {
            field.append('"');
            continue;
          }
          if (next != ',' && next != '\n' && next != '\r' && next != -1) {
            throw new FormatException(
                source,
                recordRow,
                column,
                "unexpected '"
                    + (char) next
                    + "' after a closing quote; write a quote inside a quoted field as \"\"");
          }
          return next;
        }
        if (c == '\n') {
          line++;
        }
        field.append((char) c);
      }
    }

    /** Consumes a line end that began with {@code c} (LF, CR or CRLF). */
    private void endOfLine(int c) throws IOException {
      if (c == '\r') {
        int next = in.read();
        if (next != '\n' && next != -1) {
          in.unread(next);
        }
      }
      line++;
    }
  }

  /** Malformed CSV, with the source, row and column where it was found. */
  public static final class FormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String source;
    private final int row;
    private final int column;

    /** Creates an error at a 1-based row and column of {@code source}. */
    public FormatException(String source, int row, int column, String message) {
      super(source + ": row " + row + ", column " + column + ": " + message);
      this.source = source;
      this.row = row;
      this.column = column;
    }

    /** Where the data came from. */
    public String source() {
      return source;
    }

    /** The 1-based row (the line on which the record starts; the header is row 1). */
    public int row() {
      return row;
    }

    /** The 1-based column. */
    public int column() {
      return column;
    }
  }
}
