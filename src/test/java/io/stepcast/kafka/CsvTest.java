package io.stepcast.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {

  @Test
  void shouldParseHeaderAndRows() {
    Csv csv = Csv.parse("t.csv", "symbol,date,price\nMSFT,Jan 1 2000,39.81\nIBM,Feb 1 2000,1\n");

    assertThat(csv.header()).containsExactly("symbol", "date", "price");
    assertThat(csv.rows()).hasSize(2);
    assertThat(csv.rows().get(0).asMap())
        .containsExactly(
            Map.entry("symbol", "MSFT"),
            Map.entry("date", "Jan 1 2000"),
            Map.entry("price", "39.81"));
    assertThat(csv.rows().get(1).get("symbol")).isEqualTo("IBM");
    assertThat(csv.rows().get(1).rowNumber()).isEqualTo(3);
    assertThat(csv.columnIndex("price")).isEqualTo(2);
  }

  @Test
  void shouldReadQuotedFieldsWithCommasDoubledQuotesAndLineBreaks() {
    Csv csv =
        Csv.parse(
            "t.csv",
            "name,note\n\"Smith, J.\",\"said \"\"hi\"\"\"\n\"multi\nline\",x\nlast,\"\"\n");

    assertThat(csv.rows())
        .extracting(r -> List.of(r.get(0), r.get(1)))
        .containsExactly(
            List.of("Smith, J.", "said \"hi\""), List.of("multi\nline", "x"), List.of("last", ""));
    // A record's row is the line it starts on, so the one after the two-line field is row 5.
    assertThat(csv.rows()).extracting(Csv.Row::rowNumber).containsExactly(2, 3, 5);
  }

  @Test
  void shouldAcceptCrlfLineEndsBlankLinesAndByteOrderMark() {
    Csv csv = Csv.parse("t.csv", "\uFEFFa,b\r\n1,2\r\n\r\n3,4");

    assertThat(csv.header()).containsExactly("a", "b");
    assertThat(csv.rows()).extracting(r -> r.get("b")).containsExactly("2", "4");
    assertThat(csv.rows()).extracting(Csv.Row::rowNumber).containsExactly(2, 4);
  }

  @Test
  void shouldKeepEmptyCellsIncludingATrailingOne() {
    Csv csv = Csv.parse("t.csv", "a,b,c\n,,\n1,,\n");

    assertThat(csv.rows().get(0).asMap().values()).containsExactly("", "", "");
    assertThat(csv.rows().get(1).asMap().values()).containsExactly("1", "", "");
    assertThat(csv.rows().get(1).isBlank("b")).isTrue();
  }

  @Test
  void shouldReportRowAndColumnOfMissingField() {
    assertThatThrownBy(
            () -> Csv.parse("prices.csv", "symbol,date,price\nMSFT,Jan 1 2000,1\nIBM,x\n"))
        .isInstanceOfSatisfying(
            Csv.FormatException.class,
            e -> {
              assertThat(e.row()).isEqualTo(3);
              assertThat(e.column()).isEqualTo(3);
            })
        .hasMessageStartingWith("prices.csv: row 3, column 3: missing field 'price'");
  }

  @Test
  void shouldReportRowAndColumnOfExtraField() {
    assertThatThrownBy(() -> Csv.parse("t.csv", "a,b\n1,2,3\n"))
        .hasMessageStartingWith("t.csv: row 2, column 3: extra field");
  }

  @Test
  void shouldReportUnterminatedQuoteWithTheRowItStartsOn() {
    assertThatThrownBy(() -> Csv.parse("t.csv", "a,b\n1,2\n3,\"open\n4,5\n"))
        .isInstanceOf(Csv.FormatException.class)
        .hasMessageStartingWith("t.csv: row 3, column 2: unterminated quoted field");
  }

  @Test
  void shouldReportTextAfterClosingQuote() {
    assertThatThrownBy(() -> Csv.parse("t.csv", "a,b\n\"x\"y,2\n"))
        .hasMessageStartingWith("t.csv: row 2, column 1: unexpected 'y' after a closing quote");
  }

  @Test
  void shouldRejectDuplicateAndEmptyColumnNames() {
    assertThatThrownBy(() -> Csv.parse("t.csv", "a,b,a\n1,2,3\n"))
        .hasMessage("t.csv: row 1, column 3: duplicate column name 'a' (also column 1)");
    assertThatThrownBy(() -> Csv.parse("t.csv", "a,,c\n"))
        .hasMessage("t.csv: row 1, column 2: empty column name in the header");
    assertThatThrownBy(() -> Csv.parse("t.csv", "")).hasMessageContaining("no header row");
  }

  @Test
  void shouldDetectFiniteDecimalNumbersOnly() {
    assertThat(Csv.parseNumber("39.81")).hasValue(39.81);
    assertThat(Csv.parseNumber("-1.5e3")).hasValue(-1500.0);
    assertThat(Csv.parseNumber(" 7 ")).hasValue(7.0);
    assertThat(Csv.parseNumber(".5")).hasValue(0.5);
    assertThat(Csv.parseNumber("+2.")).hasValue(2.0);
    for (String notANumber :
        new String[] {
          "",
          " ",
          "NaN",
          "Infinity",
          "-Infinity",
          "0x10",
          "1d",
          "1f",
          "1e400",
          "1,5",
          "Jan 1 2000",
          "2010-01-01",
          "--1",
          "e5"
        }) {
      assertThat(Csv.parseNumber(notANumber)).as(notANumber).isEmpty();
    }
  }

  @Test
  void shouldNameRowAndColumnWhenACellIsNotANumber() {
    Csv csv = Csv.parse("t.csv", "symbol,price\nMSFT,39.81\nIBM,n/a\nAAPL,\n");

    assertThat(csv.rows().get(0).getDouble("price")).isEqualTo(39.81);
    assertThatThrownBy(() -> csv.rows().get(1).getDouble("price"))
        .isInstanceOf(Csv.FormatException.class)
        .hasMessage("t.csv: row 3, column 2: (price) 'n/a' is not a number");
    assertThatThrownBy(() -> csv.rows().get(2).getDouble("price"))
        .hasMessage("t.csv: row 4, column 2: (price) is empty, expected a number");
    assertThatThrownBy(() -> csv.rows().get(0).get("volume"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no column 'volume'");
  }

  @Test
  void shouldStreamRowsFromFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("series.csv");
    Files.writeString(file, "t,v\n1,10\n2,20\n3,30\n", StandardCharsets.UTF_8);

    try (Csv.Reader reader = Csv.open(file)) {
      assertThat(reader.header()).containsExactly("t", "v");
      assertThat(reader.next().getDouble("v")).isEqualTo(10.0);
      assertThat(reader.next().getDouble("v")).isEqualTo(20.0);
      assertThat(reader.next().getDouble("v")).isEqualTo(30.0);
      assertThat(reader.next()).isNull();
    }
    assertThat(Csv.read(file).rows()).hasSize(3);
  }
}
