"""Quality control and aggregation for annotations, as plain statistics on plain records.

Nothing here imports Django: the services read the database into the records of `records.py`, call these
functions and store what they return. Each module cites the method it implements and the library it relies on:

- `preferences`: pairwise and ranking payloads turned into comparisons between response ids;
- `agreement`: Krippendorff's alpha (`krippendorff`), Fleiss' kappa (`statsmodels`), Kendall's tau (`scipy`),
  per project, per criterion, per item and per annotator against the others;
- `gold`: accuracy on gold items with Wilson intervals (`statsmodels`);
- `flags`: too fast, straight-lining, position and length bias (binomial tests, `scipy`), low gold accuracy; trust;
- `bradley_terry`: Bradley-Terry strengths with ties counted half (`choix`), bootstrap intervals;
- `consensus`: one answer per item (median, majority, Bradley-Terry), optionally weighted by trust;
- `leaderboard`: models ranked from people's preferences, the Chatbot Arena method.
"""
