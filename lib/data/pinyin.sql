-- pinyin.sql — the reading table built into libkb (build/data/pinyin.txt):
-- every character with a known frequency, and the common words of 2 to 4
-- characters, from ibus-pinyin's phrase table (Debian pinyin-database).
-- Columns: phrase, frequency, initial and final numbers per character.
select phrase, freq, s0||' '||y0 from py_phrase_0 where freq > 0;
select phrase, freq, s0||' '||y0||' '||s1||' '||y1 from py_phrase_1 where freq >= 3000;
select phrase, freq, s0||' '||y0||' '||s1||' '||y1||' '||s2||' '||y2 from py_phrase_2 where freq >= 5000;
select phrase, freq, s0||' '||y0||' '||s1||' '||y1||' '||s2||' '||y2||' '||s3||' '||y3
  from py_phrase_3 where freq >= 6000;
